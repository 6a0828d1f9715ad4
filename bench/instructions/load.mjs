// node load.mjs <port> <GET|POST> <n> <connections>: n requests to the Echo route over keep-alive
// connections, one at a time on each; exits 1 when one fails.
import http from "node:http";

const [port, route, n, conns] = [
  Number(process.argv[2]),
  process.argv[3],
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
const body = '{"message":"hello"}';
const post = route === "POST";
let sent = 0;
let done = 0;
function one() {
  if (sent >= n) return;
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
        if (++done === n) {
          console.log(`${n} requests`);
          agent.destroy();
        } else one();
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
