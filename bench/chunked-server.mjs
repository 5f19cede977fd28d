// A raw node:net server that answers every request with a 64 MiB chunked body (Connection: close).
// nginx cannot chunk a static file fast: its SSI filter, the only way to make it chunk one, tops
// out near 450 MB/s here, below what the clients can read. This server writes preallocated
// frames, so it costs little more than the kernel copy.
//   node bench/chunked-server.mjs [port=18481] [chunkBytes]     prints "listening <port>" when ready
import net from 'node:net';

const port = Number(process.argv[2] ?? 18481);
const chunkBytes = Number(process.argv[3] ?? 1 << 20);
const TOTAL = 64 * 1024 * 1024;
if (TOTAL % chunkBytes !== 0) throw new Error(`chunk size ${chunkBytes} does not divide 64 MiB`);

const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', 'latin1');
const data = Buffer.alloc(chunkBytes, 'x');
const frame = Buffer.concat([Buffer.from(`${chunkBytes.toString(16)}\r\n`, 'latin1'), data, Buffer.from('\r\n', 'latin1')]);
const last = Buffer.from('0\r\n\r\n', 'latin1');
const END_OF_HEAD = Buffer.from('\r\n\r\n', 'latin1');

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let seen = Buffer.alloc(0);
  socket.on('error', () => {});
  socket.on('data', function onData(chunk) {
    seen = Buffer.concat([seen, chunk]);
    if (seen.indexOf(END_OF_HEAD) === -1) return;
    socket.off('data', onData);
    let i = 0;
    const pump = () => {
      while (i < TOTAL / chunkBytes) {
        i++;
        if (!socket.write(frame)) return void socket.once('drain', pump);
      }
      socket.end(last);
    };
    socket.write(head);
    pump();
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
