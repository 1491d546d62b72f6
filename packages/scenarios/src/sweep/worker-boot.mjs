// The worker threads' entry when dsim runs from its TypeScript sources (tests, development): compile
// the worker with tsx in this thread, then hand each task to it. The built package uses dist/worker.js.
import { register } from 'tsx/esm/api';

register();
const worker = import('./worker.ts');

export default async function run(task) {
  return (await worker).default(task);
}
