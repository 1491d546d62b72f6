/**
 * Whether a topic exchange binding key matches a routing key, exactly as RabbitMQ's topic exchange
 * (https://www.rabbitmq.com/tutorials/tutorial-five-javascript): both keys are lists of words separated
 * by dots; in the binding key `*` stands for exactly one word and `#` for zero or more words. A key
 * without wildcards matches only itself. The empty routing key is one empty word (as RabbitMQ splits it).
 *
 * @example
 * ```ts
 * topicMatches('*.orange.*', 'quick.orange.rabbit'); // true
 * topicMatches('lazy.#', 'lazy');                    // true: '#' matches zero words
 * topicMatches('*.*.rabbit', 'quick.orange.male.rabbit'); // false: '*' is exactly one word
 * ```
 */
export function topicMatches(bindingKey: string, routingKey: string): boolean {
  return matchWords(bindingKey.split('.'), 0, routingKey.split('.'), 0);
}

function matchWords(pattern: readonly string[], p: number, words: readonly string[], w: number): boolean {
  while (p < pattern.length) {
    const token = pattern[p]!;
    if (token === '#') {
      // Collapse consecutive '#'; then try every split point (zero or more words).
      while (p + 1 < pattern.length && pattern[p + 1] === '#') p++;
      if (p + 1 === pattern.length) return true;
      for (let skip = w; skip <= words.length; skip++)
        if (matchWords(pattern, p + 1, words, skip)) return true;
      return false;
    }
    if (w >= words.length) return false;
    if (token !== '*' && token !== words[w]) return false;
    p++;
    w++;
  }
  return w === words.length;
}
