// A broker crash under a Kafka pipeline, as a system scenario: publishing with acks=all against acks=1.
// acks=1 does not help here: a partition whose leader died takes no writes at all until the controller
// fences the broker and elects a new leader.
import { defineSystemScenario } from '@dsim/scenarios';

export const ordersScenario = defineSystemScenario({
  name: 'orders-broker-crash',
  description: 'A broker crash stalls synchronous publishing until the partitions it led get new leaders',
  system: new URL('orders.yaml', import.meta.url),
  variants: [
    { name: 'acks-all', description: 'as in the file' },
    {
      name: 'acks-1',
      description: 'the leader alone acknowledges',
      recipe: (d) => {
        const api = d.nodes.api as { downstream: { acks?: 'all' | 0 | 1 }[] };
        api.downstream[0]!.acks = 1;
      },
    },
  ],
  checks: (m, check) => {
    check('before: availability over 99%', m.availability('users', 'before') > 0.99);
    check('during: publishing stalls, most requests time out', m.availability('users', 'during') < 0.5);
    check('after: availability over 99%', m.availability('users', 'after') > 0.99);
    // Nothing acknowledged is lost, and the group works off the backlog within the 30 s drain.
    check(
      'billing consumes every record published after the crash',
      m.rate('billing', 'after') >=
        m.rate('api->orders-kafka', 'after') * (1 - m.errorRate('api->orders-kafka', 'after')),
    );
  },
});

export default ordersScenario;
