// node-redis 3, as the article's serverless producer and Node.js worker use
// it: the client's ready check sends INFO and needs loading:0; then LPUSH
// from a "function", BRPOP from a "worker", and the reply shapes the
// callbacks see. Prints one JSON line with what it saw; exits non-zero on
// any error.
const redis = require('redis');
const port = parseInt(process.argv[2], 10);
const out = {};
const fail = (where, err) => {
  console.error(where, err && err.message ? err.message : err);
  process.exit(1);
};
const producer = redis.createClient({ host: '127.0.0.1', port });
const worker = redis.createClient({ host: '127.0.0.1', port });
producer.on('error', (e) => fail('producer', e));
worker.on('error', (e) => fail('worker', e));
let ready = 0;
const onReady = () => {
  if (++ready < 2) return;
  out.server_info_version = producer.server_info.redis_version;
  worker.brpop('order_queue', 5, (err, reply) => {
    if (err) return fail('brpop', err);
    out.brpop = reply;
    out.order = JSON.parse(reply[1]);
    producer.multi().lpush('q2', 'a').llen('q2').exec((err, replies) => {
      if (err) return fail('multi', err);
      out.multi = replies;
      producer.lpop('nosuch', (err, v) => {
        if (err) return fail('lpop', err);
        out.nil = v;
        producer.quit();
        worker.quit();
        console.log(JSON.stringify(out));
      });
    });
  });
  setTimeout(() => {
    producer.lpush('order_queue', JSON.stringify({ id: 7, total: 9.5 }), (err, n) => {
      if (err) return fail('lpush', err);
      out.lpush = n;
    });
  }, 50);
};
producer.on('ready', onReady);
worker.on('ready', onReady);
setTimeout(() => fail('timeout', 'no result in 10s'), 10000).unref();
