/**
 * A key in a circular doubly linked list with a sentinel: the node form that ARC and W-TinyLFU share (their
 * nodes move between several lists, which the slot-based `KeyList` of LRU and FIFO does not do).
 * Subclasses add what their policy needs.
 * @internal
 */
export class ListNode {
  prev: this;
  next: this;
  /** Id of the list the node is in; -1 when in none. */
  list = -1;
  constructor(
    public key: string,
    public size: number,
  ) {
    this.prev = this;
    this.next = this;
  }
}

/** An LRU-ordered list of {@link ListNode}s with its length and units: `head.next` is the LRU end. @internal */
export class NodeList<N extends ListNode> {
  units = 0;
  length = 0;

  /** @param head - a sentinel node, never a key */
  constructor(
    readonly id: number,
    readonly head: N,
  ) {}

  /** The least recently used node; the caller checks `length > 0` first. */
  lru(): N {
    return this.head.next;
  }

  pushMru(node: N): void {
    const head = this.head;
    const last = head.prev;
    node.prev = last;
    node.next = head;
    last.next = node;
    head.prev = node;
    node.list = this.id;
    this.units += node.size;
    this.length++;
  }

  unlink(node: N): void {
    node.prev.next = node.next;
    node.next.prev = node.prev;
    node.prev = node;
    node.next = node;
    node.list = -1;
    // Fractional sizes could leave a rounding residue in an empty list.
    this.units = --this.length === 0 ? 0 : this.units - node.size;
  }

  reset(): void {
    this.head.prev = this.head;
    this.head.next = this.head;
    this.units = 0;
    this.length = 0;
  }

  keys(): string[] {
    const out: string[] = [];
    for (let n = this.head.next; n !== this.head; n = n.next) out.push(n.key);
    return out;
  }
}
