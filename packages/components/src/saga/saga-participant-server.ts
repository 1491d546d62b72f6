import { type NetNode, type Reply, RpcEndpoint, type RpcRequest } from '@dsim/core';
import type { SagaDefinition } from './saga-definition.js';
import type { SagaRecord } from './saga-ledger.js';
import { SagaParticipant } from './saga-participant.js';

/**
 * A command from an orchestrator to a participant, as it travels in an RPC request: run (or compensate)
 * one attempt of one step of one saga.
 *
 * @example
 * ```ts
 * const cmd: SagaCommand = { saga, record, action: 'execute', step: 0, attempt: 1 };
 * ```
 */
export interface SagaCommand {
  readonly saga: SagaDefinition;
  /** The saga instance (its id and the participants' records of it). */
  readonly record: SagaRecord;
  readonly action: 'execute' | 'compensate';
  readonly step: number;
  readonly attempt: number;
}

/** The participants served on each node, by saga: several sagas may share a participant node. */
const SERVERS = new WeakMap<NetNode<any>, Map<SagaDefinition, SagaParticipant>>();

/**
 * The participant of `saga` on `node`, answering {@link SagaCommand}s over RPC: `ok(true)` when the
 * local transaction committed, `error('error')` when it failed and rolled back, no answer if the node
 * crashes first. The node's RPC endpoint serves saga commands only (one handler per endpoint): put other
 * services on other nodes. Called by {@link SagaOrchestrator} for each participant of its saga; calling
 * it again returns the same participant.
 *
 * @example
 * ```ts
 * const payments = serveSagaParticipant(net.node('payments'), saga);
 * payments.stats.absorbed; // duplicate commands answered from its records
 * ```
 */
export function serveSagaParticipant(node: NetNode<any>, saga: SagaDefinition): SagaParticipant {
  let served = SERVERS.get(node);
  if (served === undefined) {
    const table = new Map<SagaDefinition, SagaParticipant>();
    served = table;
    SERVERS.set(node, table);
    RpcEndpoint.of(node).serve((request: RpcRequest<unknown>, reply: Reply<unknown>) => {
      const cmd = request.payload as SagaCommand;
      const participant = table.get(cmd?.saga);
      if (participant === undefined) {
        reply.error('unavailable', `${node.address} is no participant of this saga`);
        return;
      }
      const answer = (ok: boolean) => (ok ? reply.ok(true) : reply.error('error', `${cmd.action} failed`));
      if (cmd.action === 'execute') participant.execute(cmd.record, cmd.step, cmd.attempt, answer);
      else participant.compensate(cmd.record, cmd.step, cmd.attempt, answer);
    });
  }
  let participant = served.get(saga);
  if (participant === undefined) {
    participant = new SagaParticipant(node, saga);
    served.set(saga, participant);
  }
  return participant;
}
