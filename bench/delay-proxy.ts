/**
 * A TCP proxy that adds a fixed delay in each direction, to measure what the number of round
 * trips costs where the database is across a network rather than on loopback (this machine has no
 * netem). Every chunk is forwarded in order, `--delay-ms` after it arrived (Node's timers: about
 * 1 ms at the least, so a round trip costs about twice the delay more).
 *
 *   node --import tsx bench/delay-proxy.ts --listen 25999 --to 127.0.0.1:5432 --delay-ms 1
 *   DATABASE_URL=postgres://postgres@127.0.0.1:25999/postgres npm run bench -- --capacity ...
 */
import net from "node:net";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const listen = Number(arg("listen", "25999"));
const [host, port] = arg("to", "127.0.0.1:5432").split(":");
const delayMs = Number(arg("delay-ms", "1"));

/** Forwards `from` to `to`, each chunk `delayMs` after it arrived, in order. */
function delayed(from: net.Socket, to: net.Socket) {
  from.on("data", (chunk) => setTimeout(() => to.write(chunk), delayMs));
  from.on("end", () => setTimeout(() => to.end(), delayMs));
  from.on("error", () => to.destroy());
}

net
  .createServer((client) => {
    client.setNoDelay(true);
    const server = net.connect({ host, port: Number(port) }, () => server.setNoDelay(true));
    delayed(client, server);
    delayed(server, client);
    client.on("close", () => server.destroy());
    server.on("close", () => client.destroy());
  })
  .listen(listen, "127.0.0.1", () => console.log(`delay proxy: 127.0.0.1:${listen} → ${host}:${port}, +${delayMs} ms each way`));
