import { ImgxError } from "../../core/errors.ts";
import { MAX_CHUNK, describeListen, startServer } from "../../serve/server.ts";
import { parseAuthFlag, readHtpasswd } from "../../serve/security.ts";
import type { CliContext } from "../context.ts";
import { addRegistryFlags, oneString, registryOptions, sizeFlag, strings, type Flags } from "../options.ts";

export function registerServe(ctx: CliContext): void {
  const c = ctx.cli
    .command("serve", "Serve a web page that uploads docker-save/OCI tarballs into the --registry hosts and browses them")
    .option("--listen <host:port>", "Address to listen on (default 127.0.0.1:8080; port 0 picks a free one)")
    .option("--registry <host>", "Registry the page may push to and browse; repeatable (the first is the default target)")
    .option("--auth <user:password>", "Protect the page with this user and password (HTTP Basic)")
    .option("--auth-file <htpasswd>", "Protect the page with the bcrypt entries of an htpasswd file (htpasswd -B)")
    .option("--tls-cert <file>", "Serve HTTPS with this PEM certificate (with --tls-key)")
    .option("--tls-key <file>", "PEM private key for --tls-cert")
    .option("--max-upload-size <size>", "Refuse files and layers larger than this (e.g. 20G; default: no limit)")
    .option("--allow-delete", "Let the page delete tags")
    .option("--chunk-size <size>", "Chunk size the page uploads in (default 32M, at most 64M)");
  addRegistryFlags(c)
    .option("--debug", "Trace registry requests (secrets redacted)")
    .example("imgx serve --registry localhost:5000")
    .example("imgx serve --listen 0.0.0.0:8443 --registry registry.example.com --auth-file ./htpasswd --tls-cert cert.pem --tls-key key.pem")
    .action(async (flags: Flags) => {
      const argv = ctx.argv;
      const registries = strings(argv, "registry").flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
      const authFlag = oneString(argv, "auth");
      const authFile = oneString(argv, "auth-file");
      if (authFlag && authFile) throw new ImgxError("USAGE", "Cannot use --auth and --auth-file together: pick one");
      const listen = describeListen(oneString(argv, "listen") ?? "127.0.0.1:8080");
      const chunk = sizeFlag(argv, "chunk-size") ?? 32 * 1024 * 1024;
      if (chunk > MAX_CHUNK) throw new ImgxError("USAGE", "Cannot use --chunk-size over 64M: the server caps request bodies at 64 MiB");
      const server = startServer({
        ...listen,
        registries,
        registry: await registryOptions(ctx, argv, flags),
        auth: authFlag ? parseAuthFlag(authFlag) : authFile ? readHtpasswd(authFile) : undefined,
        tlsCert: oneString(argv, "tls-cert"),
        tlsKey: oneString(argv, "tls-key"),
        maxUploadSize: sizeFlag(argv, "max-upload-size") ?? 0,
        allowDelete: !!flags.allowDelete,
        chunkSize: chunk,
      });
      const open = !["127.0.0.1", "localhost", "::1"].includes(listen.hostname);
      if (open && !authFlag && !authFile) process.stderr.write("imgx serve: warning: listening beyond loopback without --auth/--auth-file: anyone who reaches this port can push\n");
      process.stdout.write(`imgx serve: listening on ${server.url} (registries: ${registries.join(", ")})\n`);
      // the CLI owns the process: stop cleanly (deleting unfinished uploads) on Ctrl-C or SIGTERM
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await server.stop();
    });
}
