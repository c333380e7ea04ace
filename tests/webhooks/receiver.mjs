// A webhook receiver for the tests. Every request it receives is checked with the reference
// implementation of Standard Webhooks (`standardwebhooks` from npm), against each secret the
// test gave it, and recorded; the test reads the records back. How it answers is the test's
// to choose: a list of statuses, a delay, a flood of a body, a redirect.
// Beside it runs a DNS server (`dns2` from npm) whose answers the test sets, name by name: each
// query for a name takes the next address of its list (the last one stays), so a name can
// answer one address to one lookup and another to the next.
// Prints `listening http://127.0.0.1:PORT dns 127.0.0.1:PORT` first; exits when its stdin closes.
import http from 'node:http';
import dns2 from 'dns2';
import { Webhook } from 'standardwebhooks';

let secrets = [];
let statuses = [];
let delayMs = 0;
let flood = false;
let redirect = null;
let silent = false;
const received = [];
let dnsAnswers = {};
const dnsQueries = [];

function readBody(req, limit) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function verifiedWith(body, headers) {
  const found = [];
  secrets.forEach((secret, index) => {
    try {
      new Webhook(secret).verify(body, {
        'webhook-id': headers['webhook-id'],
        'webhook-timestamp': headers['webhook-timestamp'],
        'webhook-signature': headers['webhook-signature'],
      });
      found.push(index);
    } catch {
      // Not signed with this secret.
    }
  });
  return found;
}

const server = http.createServer(async (req, res) => {
  const body = await readBody(req, 1 << 20);
  if (req.url === '/_control' && req.method === 'POST') {
    const control = JSON.parse(body);
    if ('secrets' in control) secrets = control.secrets;
    if ('statuses' in control) statuses = control.statuses;
    if ('delay_ms' in control) delayMs = control.delay_ms;
    if ('flood' in control) flood = control.flood;
    if ('redirect' in control) redirect = control.redirect;
    if ('silent' in control) silent = control.silent;
    if ('dns' in control) dnsAnswers = control.dns;
    res.writeHead(204).end();
    return;
  }
  if (req.url === '/_dns' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(dnsQueries));
    return;
  }
  if (req.url === '/_received' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
    return;
  }
  const status = statuses.length > 0 ? statuses.shift() : 200;
  received.push({
    path: req.url,
    method: req.method,
    id: req.headers['webhook-id'] ?? null,
    timestamp: req.headers['webhook-timestamp'] ?? null,
    signature: req.headers['webhook-signature'] ?? null,
    content_type: req.headers['content-type'] ?? null,
    body,
    verified_with: verifiedWith(body, req.headers),
    answered: silent ? null : status,
    at_ms: Date.now(),
  });
  if (silent) return; // Never answers.
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  if (redirect) {
    res.writeHead(307, { location: redirect }).end();
    return;
  }
  if (flood) {
    // 100 MB, in 1 MB pieces, as fast as the reader takes them.
    res.writeHead(status, { 'content-type': 'text/plain' });
    const piece = Buffer.alloc(1 << 20, 'x');
    let sent = 0;
    const more = () => {
      while (sent < 100) {
        sent += 1;
        if (!res.write(piece)) return res.once('drain', more);
      }
      res.end();
    };
    res.on('error', () => {});
    more();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain' }).end(`answered ${status}`);
});

const dns = dns2.createServer({
  udp: true,
  handle: (request, send) => {
    const response = dns2.Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const list = dnsAnswers[name];
    if (question.type === dns2.Packet.TYPE.A && list && list.length > 0) {
      const address = list.length > 1 ? list.shift() : list[0];
      dnsQueries.push({ name, address });
      response.answers.push({
        name: question.name,
        type: dns2.Packet.TYPE.A,
        class: dns2.Packet.CLASS.IN,
        ttl: 0,
        address,
      });
    }
    send(response);
  },
});

await dns.listen({ udp: { port: 0, address: '127.0.0.1' } });
server.listen(0, '127.0.0.1', () => {
  const dnsPort = dns.addresses().udp.port;
  process.stdout.write(
    `listening http://127.0.0.1:${server.address().port} dns 127.0.0.1:${dnsPort}\n`,
  );
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
