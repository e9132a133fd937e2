// Drive faultlab's Toxiproxy API with the unmodified `toxiproxy-node-client`
// package from npm (npm install toxiproxy-node-client).
//
// Usage: node node_client.js API_URL ECHO_UPSTREAM
// ECHO_UPSTREAM is a host:port that echoes what it receives. Prints `ok` and
// exits 0 when every step behaved as it does against Toxiproxy.

"use strict";

const assert = require("node:assert/strict");
const net = require("node:net");
const { Toxiproxy } = require("toxiproxy-node-client");

function roundTrip(listen) {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(":")), Number(listen.slice(listen.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect({ host, port }, () => socket.write("ping"));
    let got = "";
    socket.setTimeout(5000, () => reject(new Error("no answer")));
    socket.on("data", (data) => {
      got += data;
      if (got.length >= 4) {
        socket.destroy();
        assert.equal(got, "ping");
        resolve(Date.now() - started);
      }
    });
    socket.on("error", reject);
  });
}

function refused(listen) {
  const port = Number(listen.slice(listen.lastIndexOf(":") + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", (e) => resolve(e.code === "ECONNREFUSED"));
  });
}

async function main() {
  const [url, upstream] = process.argv.slice(2);
  const toxiproxy = new Toxiproxy(url);
  assert.ok((await toxiproxy.getVersion()).length > 0);

  const proxy = await toxiproxy.createProxy({ name: "node", listen: "127.0.0.1:0", upstream });
  assert.equal(proxy.enabled, true);
  assert.ok(!proxy.listen.endsWith(":0"), proxy.listen);
  assert.ok("node" in (await toxiproxy.getAll()));
  assert.ok((await roundTrip(proxy.listen)) < 200);

  const toxic = await proxy.addToxic({ type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 300, jitter: 0 } });
  assert.equal(toxic.name, "latency_downstream");
  assert.ok((await roundTrip(proxy.listen)) >= 300);
  const fetched = await proxy.getToxic("latency_downstream");
  assert.equal(fetched.attributes.latency, 300);

  const updated = await toxic.update({ attributes: { latency: 20, jitter: 0 }, toxicity: 1 });
  assert.equal(updated.attributes.latency, 20);
  const took = await roundTrip(proxy.listen);
  assert.ok(took >= 20 && took < 250, `${took} ms`);
  await updated.remove();
  await assert.rejects(proxy.getToxic("latency_downstream"), /404/);

  const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream });
  assert.equal(down.enabled, false);
  assert.ok(await refused(proxy.listen), "disabled: refused");
  const up = await proxy.update({ enabled: true, listen: proxy.listen, upstream });
  assert.equal(up.enabled, true);
  assert.ok((await roundTrip(proxy.listen)) < 200, "enabled again");

  await proxy.addToxic({ type: "timeout", name: "hold", stream: "upstream", toxicity: 1, attributes: { timeout: 0 } });
  await toxiproxy.reset();
  await assert.rejects(proxy.getToxic("hold"), /404/);

  const populated = await toxiproxy.populate([{ name: "other", listen: "127.0.0.1:0", upstream }]);
  assert.ok((await roundTrip(populated.other.listen)) < 200);

  await proxy.remove();
  await assert.rejects(toxiproxy.get("node"), /404/);
  console.log("ok");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
