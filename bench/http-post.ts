import { request, type Agent } from "node:http";

/**
 * POSTs a JSON body over a keep-alive agent: the status and the body as text. No answer (refused
 * connection, reset, timeout) is status 0, never a throw: the load processes count it and go on.
 */
export function postJson(
  agent: Agent,
  url: URL,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs = 10_000,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const text = JSON.stringify(body);
    const req = request(
      url,
      { method: "POST", agent, timeout: timeoutMs, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, text: "" }));
    req.end(text);
  });
}
