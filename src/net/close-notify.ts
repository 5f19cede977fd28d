import { Duplex } from 'node:stream';
import type net from 'node:net';

/**
 * Node's TLSSocket emits 'end' both for a close_notify alert and for a bare TCP FIN, and the
 * native TLS wrap hides the TCP stream, so the two cannot be told apart on it. Routing the
 * ciphertext through this JS Duplex shows the order: a close_notify ends the TLS stream while
 * the TCP stream is still open; a FIN without it ends TCP first (RFC 8446 §6.1: a truncation).
 * Used only when someone listens to wire events: the extra hop costs a copy per read.
 */
export interface CloseNotifyWatch {
  /** Hand this to tls.connect({ socket }). */
  duplex: Duplex;
  /** Whether the TCP stream had ended (FIN read) at the time of asking. */
  tcpEnded(): boolean;
}

export function watchCloseNotify(plain: net.Socket): CloseNotifyWatch {
  let ended = false;
  const duplex = new Duplex({
    read() {
      plain.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      plain.write(chunk, cb);
    },
    final(cb) {
      plain.end();
      cb();
    },
    destroy(err, cb) {
      plain.destroy();
      cb(err);
    },
  });
  plain.on('data', (b: Buffer) => {
    if (!duplex.push(b)) plain.pause();
  });
  plain.on('end', () => {
    ended = true;
    duplex.push(null);
  });
  plain.on('error', (err) => duplex.destroy(err));
  plain.on('close', () => duplex.destroy());
  return { duplex, tcpEnded: () => ended };
}
