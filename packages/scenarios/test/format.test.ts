import { describe, expect, it } from 'vitest';
import { defineScenario, formatResult, main, param, runScenario } from '../src/index.js';

const sneaky = defineScenario({
  name: 'sneaky',
  description: 'strings with terminal escapes',
  params: { label: param.string({ default: 'plain', description: 'a label' }) },
  run({ params, check }) {
    check(`label ${params.label}`, true, 'bell\u0007 and \u001b[2J clear-screen');
    return { label: params.label };
  },
});

describe('printing user strings', () => {
  it('escapes control characters in params, outcomes, checks and the reproduce line', () => {
    const result = runScenario(sneaky, { seed: 1, params: { label: 'red\u001b[31m' } });
    const text = formatResult(result);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is that none get through
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(text).toContain('label=red\\x1b[31m');
    expect(text).toContain('bell\\x07 and \\x1b[2J clear-screen');
    // The JSON result keeps the exact strings: JSON escapes them itself.
    expect(JSON.parse(JSON.stringify(result)).outcome.label).toBe('red\u001b[31m');
  });

  it('--json --help prints the parameters as JSON', async () => {
    let stdout = '';
    const code = await main(['run', 'retry-storm', '--help', '--json'], {
      stdout: (t) => (stdout += t),
      stderr: () => {},
    });
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.name).toBe('retry-storm');
    expect(doc.params.seconds).toMatchObject({ kind: 'number' });
    expect(doc.variants.map((v: { name: string }) => v.name)).toContain('naive');
  });
});
