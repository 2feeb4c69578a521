/**
 * SSRF protection: a webhook target must not reach the console's own network.
 * Refused unless WEBHOOKS_ALLOW_PRIVATE_TARGETS: loopback, private (RFC 1918,
 * unique local), link-local (cloud metadata lives at 169.254.169.254),
 * carrier-grade NAT, unspecified, multicast and reserved addresses, in IPv4,
 * IPv6 and IPv4-mapped IPv6. Checked when a subscription is saved (every
 * address the name resolves to) and again for the address each request
 * connects to (`guardedLookup`), so a name re-pointed after the check
 * (DNS rebinding) is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

const blocked = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], // "this network", unspecified
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
  ["64:ff9b::", 96], // NAT64 (reaches IPv4 addresses)
] as const) {
  blocked.addSubnet(net, bits, "ipv6");
}

/** Why `address` may not be a target, or null if it may. */
export function refusedAddress(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return refusedAddress(mapped[1]!);
    return blocked.check(address, "ipv6") ? `${address} is a loopback, private or link-local address` : null;
  }
  return blocked.check(address, "ipv4") ? `${address} is a loopback, private or link-local address` : null;
}

export class TargetRefusedError extends Error {
  override readonly name = "TargetRefusedError";
}

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, "");

/** Every address `url`'s host resolves to must be allowed (a literal IP is checked as it is). */
export async function checkTarget(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(url);
  const addresses = isIP(host)
    ? [host]
    : await new Promise<string[]>((resolve, reject) =>
        dnsLookup(host, { all: true }, (error, found: LookupAddress[]) => (error ? reject(error) : resolve(found.map((a) => a.address)))),
      ).catch((error: NodeJS.ErrnoException) => {
        throw new TargetRefusedError(`${host} does not resolve (${error.code ?? error.message})`);
      });
  for (const address of addresses) {
    const why = refusedAddress(address);
    if (why) throw new TargetRefusedError(`${host} resolves to ${why}; set WEBHOOKS_ALLOW_PRIVATE_TARGETS=true to allow it`);
  }
}

/**
 * A `lookup` for http.request that refuses what it resolved before the socket
 * connects. Node skips `lookup` for literal IPs, so `post` checks those itself.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, found: LookupAddress[]) => {
    if (error) return callback(error, "", 0);
    for (const a of found) {
      const why = refusedAddress(a.address);
      if (why) return callback(new TargetRefusedError(`${hostname} resolved to ${why}`), "", 0);
    }
    if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, found);
    const first = found[0]!;
    callback(null, first.address, first.family);
  });
};

export const isLiteralIp = (url: URL) => isIP(hostOf(url)) !== 0;
export { hostOf };
