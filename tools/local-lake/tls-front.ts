// A TLS front for moto, for Spark only. hadoop-aws 3.3.4 (AWS SDK v1) refuses any request carrying SSE-KMS
// parameters over plain HTTP ("HTTPS must be used when sending customer encryption keys"), and S3A sends them on
// every copy of a KMS-encrypted object, i.e. on every task commit (rename) into the lake's SSE-KMS buckets.
// moto speaks HTTP; this terminates TLS on loopback with a throw-away self-signed certificate and forwards each
// request to moto, so Spark writes with the data key exactly as Glue does.
//
// It is an HTTP proxy, not a byte pipe, because moto's server (Werkzeug's) closes the connection after every
// response: piped through, each of the thousands of S3A requests of a Glue run would open a new TLS connection
// (a handshake's key exchange and signature on both sides, each time). Here Spark's TLS connections stay open
// and only the plain loopback hop to moto is per request.

import { readFileSync, rmSync } from "node:fs";
import { type IncomingHttpHeaders, request } from "node:http";
import { createServer } from "node:https";
import { join } from "node:path";
import { exec } from "./steps";

export interface TlsFront {
  /** https://127.0.0.1:<port>, forwarding to moto. */
  readonly endpoint: string;
  /**
   * PKCS12 trust store for the JVM (javax.net.ssl.trustStore) holding only this front's certificate: it replaces
   * the default store for the whole spark-submit process, whose only HTTPS is S3A to this front (the jars come
   * from .build/jars, not from Maven at run time), so the driver trusts nothing else.
   */
  readonly trustStore: string;
  readonly trustStorePassword: string;
  close(): Promise<void>;
}

export async function startTlsFront(
  motoPort: number,
  dir: string,
  log: string,
  step: string,
): Promise<TlsFront> {
  const key = join(dir, "moto-tls.key");
  const cert = join(dir, "moto-tls.crt");
  const trustStore = join(dir, "moto-truststore.p12");
  const trustStorePassword = "local-only";
  const run = (command: string, args: string[]) =>
    exec(command, args, { cwd: dir, env: process.env, log, step });
  await run("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"],
    ...["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
  ]);
  rmSync(trustStore, { force: true });
  await run("keytool", [
    ...["-importcert", "-noprompt", "-alias", "local-moto", "-file", cert, "-keystore", trustStore],
    ...["-storetype", "PKCS12", "-storepass", trustStorePassword],
  ]);
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const upstream = request(
      {
        host: "127.0.0.1",
        port: motoPort,
        method: req.method,
        path: req.url,
        headers: withoutHopByHop(req.headers),
        agent: false, // moto closes every connection anyway
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.once("error", (error) => {
      if (res.headersSent) res.destroy(error);
      else res.writeHead(502).end(`local TLS front: moto did not answer: ${error.message}`);
    });
    req.pipe(upstream);
  });
  // Longer than the AWS SDK keeps an idle pooled connection, so the SDK never reuses one this side closed.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  const port = await new Promise<number>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      ok(typeof address === "object" && address ? address.port : 0);
    });
  });
  return {
    endpoint: `https://127.0.0.1:${port}`,
    trustStore,
    trustStorePassword,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections(); // idle keep-alive connections would hold close() for minutes
      }),
  };
}

/**
 * Headers of one hop only (RFC 9110 7.6.1): not forwarded. `expect` too: Node's server has already answered
 * "100 Continue" to the client, and the body follows.
 */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect"];

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.includes(name)));
}
