import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { imgx, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir();
afterAll(t.cleanup);
const COMMANDS = ["convert", "pull", "push", "copy", "inspect", "tags", "digest", "login", "logout", "completion"];

describe("command line", () => {
  test("--version names imgx, bun and the build target", async () => {
    const r = await imgx(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imgx \d+\.\d+\.\d+ \(bun 1\.4\.\d+, linux-(x64|arm64)\)\n$/);
  });

  test.each(COMMANDS)("help for %s has a description, flags and examples", async (cmd) => {
    for (const args of [["help", cmd], [cmd, "--help"]]) {
      const r = await imgx(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`imgx ${cmd}`);
      expect(r.stdout).toContain("Options:");
      expect(r.stdout).toContain("Examples:");
    }
  });

  test("unknown flags and commands suggest the closest one, exit 2", async () => {
    const f = await imgx(["convert", "--platfrom", "linux/amd64", "a.tar", "oci:b"]);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain("unknown option --platfrom; did you mean --platform?");
    expect(f.stderr.trim().split("\n").length).toBe(1);
    const c = await imgx(["convrt", "a", "b"]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('did you mean "convert"?');
  });

  test("bad references are usage errors with the reason", async () => {
    const r = await imgx(["inspect", "docker://Bad/Name:tag"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("must be lowercase");
  });

  test("missing input is 'not found' (exit 3), a non-image file is bad input (exit 6)", async () => {
    const missing = await imgx(["inspect", join(t.dir, "nope.tar")]);
    expect(missing.code).toBe(3);
    const junk = join(t.dir, "junk.tar");
    writeFileSync(junk, "not a tar at all".repeat(100));
    const bad = await imgx(["inspect", junk]);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toContain(junk);
  });

  test("completion scripts", async () => {
    const bash = await imgx(["completion", "bash"]);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain("complete -o filenames -F _imgx imgx");
    expect(bash.stdout).toContain("--all-platforms");
    const f = join(t.dir, "imgx.bash");
    writeFileSync(f, bash.stdout);
    expect((await run(["bash", "-n", f])).code).toBe(0);
    // the script actually completes: load it and ask for completions of "imgx co"
    const probe = await run(["bash", "-c", `source ${f}; COMP_WORDS=(imgx co); COMP_CWORD=1; _imgx; echo "\${COMPREPLY[@]}"`]);
    expect(probe.stdout.trim().split(" ").sort()).toEqual(["completion", "convert", "copy"]);
    const zsh = await imgx(["completion", "zsh"]);
    expect(zsh.stdout).toStartWith("#compdef imgx");
    const fish = await imgx(["completion", "fish"]);
    expect(fish.stdout).toContain("complete -c imgx -n __fish_use_subcommand -a push");
    const bad = await imgx(["completion", "tcsh"]);
    expect(bad.code).toBe(2);
  });

  test("the binary runs with an empty PATH in a fresh directory (no Node, no Bun)", async () => {
    const r = await imgx(["--version"], { env: { PATH: "" }, cwd: t.dir });
    expect(r.code).toBe(0);
  });
});
