// node load.mjs <port> <GET|POST> <n> <connections> [<warm> <command>]: n requests to the Echo route over
// keep-alive connections, one at a time on each; exits 1 when one fails. With <warm>: that many requests
// first, then <command> is run with its "{}" as "on" (count.sh turns callgrind's instrumentation on), then the n requests on
// the SAME connections: new sockets after the warm-up change hidden classes in Node's http code and
// deoptimise it inside the measured window. After the n, the command is run again with "off".
import { execSync } from "node:child_process";
import http from "node:http";

const [port, route, n, conns] = [
  Number(process.argv[2]),
  process.argv[3],
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const warm = Number(process.argv[6] ?? 0);
const command = process.argv[7];
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
const body = '{"message":"hello"}';
const post = route === "POST";

/** Sends `total` requests over `conns` connections of the agent; resolves when all have answered. */
function phase(total) {
  let sent = 0;
  let done = 0;
  return new Promise((resolve) => {
    function one() {
      if (sent >= total) return;
      sent++;
      const req = http.request(
        {
          port,
          host: "127.0.0.1",
          agent,
          method: route,
          path: post ? "/v1/echo" : "/v1/echo/hello",
          headers: post ? { "content-type": "application/json", "content-length": body.length } : {},
        },
        (res) => {
          if (res.statusCode !== 200) {
            console.error(`status ${res.statusCode}`);
            process.exit(1);
          }
          res.resume();
          res.on("end", () => {
            if (++done === total) resolve();
            else one();
          });
        },
      );
      req.on("error", (e) => {
        console.error(e.message);
        process.exit(1);
      });
      req.end(post ? body : undefined);
    }
    for (let i = 0; i < conns; i++) one();
  });
}

if (warm > 0) {
  await phase(warm);
  if (command) execSync(command.replace("{}", "on"), { stdio: "ignore" });
}
await phase(n);
if (warm > 0 && command) execSync(command.replace("{}", "off"), { stdio: "ignore" });
console.log(`${n} requests`);
agent.destroy();
