import type { CAC } from "cac";
import { ImgxError, q } from "../../core/errors.ts";
import type { CliContext } from "../context.ts";

/** Shell completion scripts generated from the registered commands and their flags. */
export function registerCompletion(ctx: CliContext): void {
  ctx.cli
    .command("completion <shell>", "Print a shell completion script (bash, zsh or fish)")
    .example("imgx completion bash > /etc/bash_completion.d/imgx")
    .example("imgx completion zsh > \"${fpath[1]}/_imgx\"")
    .example("imgx completion fish > ~/.config/fish/completions/imgx.fish")
    .action((shell: string) => {
      const spec = commandSpec(ctx.cli);
      const gen = { bash, zsh, fish }[shell as "bash" | "zsh" | "fish"];
      if (!gen) throw new ImgxError("USAGE", `Cannot generate completion for ${q(shell)}: expected bash, zsh or fish`);
      process.stdout.write(gen(spec));
    });
}

interface Spec {
  name: string;
  description: string;
  flags: { name: string; description: string; takesValue: boolean }[];
}

function commandSpec(cli: CAC): Spec[] {
  return cli.commands
    .filter((c) => c.name)
    .map((c) => ({
      name: c.name,
      description: c.description,
      flags: [...c.options, ...cli.globalCommand.options].flatMap((o) =>
        o.names.filter((n) => n.length > 1).map((n) => ({ name: n.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`), description: o.description, takesValue: /[<[]/.test(o.rawName) })),
      ),
    }));
}

function bash(spec: Spec[]): string {
  const cases = spec.map((c) => `    ${c.name}) flags="${c.flags.map((f) => `--${f.name}`).join(" ")}" ;;`).join("\n");
  return `# bash completion for imgx
_imgx() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} flags=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${spec.map((c) => c.name).join(" ")} help --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _imgx imgx
`;
}

const esc = (s: string) => s.replace(/'/g, "'\\''").replace(/:/g, "\\:").replace(/\[/g, "\\[").replace(/\]/g, "\\]");

function zsh(spec: Spec[]): string {
  const cmds = spec.map((c) => `    '${c.name}:${esc(c.description)}'`).join("\n");
  const cases = spec
    .map((c) => `    ${c.name})\n      _arguments ${c.flags.map((f) => `'--${f.name}[${esc(f.description)}]${f.takesValue ? ":value:" : ""}'`).join(" ")} '*:file:_files' ;;`)
    .join("\n");
  return `#compdef imgx
_imgx() {
  local -a commands
  commands=(
${cmds}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case $words[2] in
${cases}
  esac
}
compdef _imgx imgx
`;
}

function fish(spec: Spec[]): string {
  const lines = ["# fish completion for imgx", "complete -c imgx -f"];
  for (const c of spec) lines.push(`complete -c imgx -n __fish_use_subcommand -a ${c.name} -d '${c.description.replace(/'/g, "\\'")}'`);
  for (const c of spec)
    for (const f of c.flags) lines.push(`complete -c imgx -n '__fish_seen_subcommand_from ${c.name}' -l ${f.name}${f.takesValue ? " -r" : ""} -d '${f.description.replace(/'/g, "\\'")}'`);
  return `${lines.join("\n")}\n`;
}
