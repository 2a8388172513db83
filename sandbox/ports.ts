import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/** The preferred port if it is free, else any free one: a second sandbox should still start. 0 asks for any. */
export async function portOr(preferred: string | number): Promise<number> {
  const wanted = Number(preferred);
  if (wanted === 0) return freePort(); // 0: any free port, as a listen(0) would pick
  const free = await new Promise<boolean>((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(wanted, '127.0.0.1', () => probe.close(() => done(true)));
  });
  return free ? wanted : freePort();
}
