// SPDX-License-Identifier: MIT
// MQTT topic names and filters (MQTT 3.1.1 section 4.7, the same in 5): checked
// and matched once, for the client's routing of messages to subscriptions and
// for the broker's routing to clients.

/** Why name is not a topic to publish to, or undefined when it is one. */
export function topicNameFault(name: string): string | undefined {
  if (name === "") return "a topic name is not empty";
  if (/[+#\0]/.test(name)) return "a topic name has no wildcard (+, #) and no NUL";
  return undefined;
}

/** Why filter is not a subscription filter, or undefined when it is one. */
export function topicFilterFault(filter: string): string | undefined {
  if (filter === "") return "a topic filter is not empty";
  if (filter.includes("\0")) return "a topic filter has no NUL";
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1))
      return "# is a whole level, the last one";
    if (level.includes("+") && level !== "+") return "+ is a whole level";
  }
  return undefined;
}

/**
 * Whether a message published to topic matches filter (both valid). "+" is one
 * level, "#" the level it stands at and every one below ("a/#" matches "a");
 * topics starting with "$" ($SYS...) are matched only by filters that name it.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
