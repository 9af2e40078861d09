"""How an assignment ``NAME = value`` is spelled in each host file syntax."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def lower(name: str) -> str:
    return name.lower()


def camel(name: str) -> str:
    parts = name.lower().split("_")
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def pascal(name: str) -> str:
    if "_" not in name and not name.isupper():
        return name
    return "".join(p.capitalize() for p in name.lower().split("_"))


def dotted(name: str) -> str:
    return name.lower().replace("_", ".")


def kebab(name: str) -> str:
    return name.lower().replace("_", "-")


def upper(name: str) -> str:
    return name if name.isupper() or "_" not in name else name.upper()


def _shell_quote(value: str) -> str:
    return f"'{value}'" if "$" in value or "!" in value else f'"{value}"'


def _env_value(value: str) -> str:
    if "$" in value[1:]:
        return f"'{value}'"
    if any(c in value for c in " ;&"):
        return f'"{value}"'
    return value


def _yaml_value(value: str) -> str:
    if value[:1] in "!&*@%{[|>'\"?-`" or ": " in value or " #" in value:
        return f'"{value}"'
    return value


Render = Callable[[str, str], str]
Ref = Callable[[str], str]


@dataclass(frozen=True)
class Syntax:
    name: str
    assign: Render
    ref: Ref | None = None  # an environment/secret-store reference, a hard negative
    ref_kind: str = "env_reference"  # the negative kind of ``ref`` lines


SYNTAXES: dict[str, Syntax] = {
    "env": Syntax("env", lambda n, v: f"{upper(n)}={_env_value(v)}"),
    "export": Syntax(
        "export",
        lambda n, v: f"export {upper(n)}={_shell_quote(v)}",
        lambda n: f'export {upper(n)}="$(vault kv get -field=value secret/{kebab(n)})"',
    ),
    "yaml": Syntax(
        "yaml",
        lambda n, v: f"{lower(n)}: {_yaml_value(v)}",
        lambda n: f"{lower(n)}: ${{{upper(n)}}}",
        ref_kind="template",
    ),
    "yaml_camel": Syntax(
        "yaml_camel",
        lambda n, v: f'{camel(n)}: "{v}"',
        lambda n: f'{camel(n)}: ""',
        ref_kind="placeholder",
    ),
    "compose_list": Syntax(
        "compose_list",
        lambda n, v: f"- {upper(n)}={v}",
        lambda n: f"- {upper(n)}=${{{upper(n)}}}",
        ref_kind="template",
    ),
    "compose_map": Syntax(
        "compose_map",
        lambda n, v: f'{upper(n)}: "{v}"',
        lambda n: f"{upper(n)}: ${{{upper(n)}:?{lower(n)} is required}}",
        ref_kind="template",
    ),
    "gh_env": Syntax(
        "gh_env",
        lambda n, v: f"{upper(n)}: {_yaml_value(v)}",
        lambda n: f"{upper(n)}: ${{{{ secrets.{upper(n)} }}}}",
        ref_kind="template",
    ),
    "python": Syntax(
        "python",
        lambda n, v: f'{upper(n)} = "{v}"',
        lambda n: f'{upper(n)} = os.environ["{upper(n)}"]',
    ),
    "python_get": Syntax(
        "python_get",
        lambda n, v: f'{upper(n)} = os.environ.get("{upper(n)}", "{v}")',
        lambda n: f'{upper(n)} = os.getenv("{upper(n)}", "")',
    ),
    "js_obj": Syntax(
        "js_obj",
        lambda n, v: f'{camel(n)}: "{v}",',
        lambda n: f"{camel(n)}: process.env.{upper(n)},",
    ),
    "js_const": Syntax(
        "js_const",
        lambda n, v: f"const {camel(n)} = '{v}';",
        lambda n: f'const {camel(n)} = process.env["{upper(n)}"] || "";',
    ),
    "ts": Syntax(
        "ts",
        lambda n, v: f'export const {upper(n)}: string = "{v}";',
        lambda n: f'export const {upper(n)} = process.env.{upper(n)} ?? "";',
    ),
    "go": Syntax(
        "go", lambda n, v: f'{camel(n)} = "{v}"', lambda n: f'{camel(n)} = os.Getenv("{upper(n)}")'
    ),
    "java": Syntax(
        "java",
        lambda n, v: f'private static final String {upper(n)} = "{v}";',
        lambda n: f'private static final String {upper(n)} = System.getenv("{upper(n)}");',
    ),
    "csharp": Syntax(
        "csharp",
        lambda n, v: f'private const string {pascal(n)} = "{v}";',
        lambda n: (
            f'private static readonly string {pascal(n)} = Environment.GetEnvironmentVariable("{upper(n)}");'
        ),
    ),
    "ruby": Syntax(
        "ruby",
        lambda n, v: f"config.{lower(n)} = '{v}'",
        lambda n: f'config.{lower(n)} = ENV.fetch("{upper(n)}")',
    ),
    "php": Syntax(
        "php",
        lambda n, v: f"'{lower(n)}' => '{v}',",
        lambda n: f"'{lower(n)}' => env('{upper(n)}'),",
    ),
    "properties": Syntax(
        "properties",
        lambda n, v: f"app.{dotted(n)}={v}",
        lambda n: f"app.{dotted(n)}=${{{upper(n)}}}",
        ref_kind="template",
    ),
    "ini": Syntax(
        "ini",
        lambda n, v: f"{lower(n)} = {v}",
        lambda n: f"{lower(n)} = %({lower(n)})s",
        ref_kind="template",
    ),
    "toml": Syntax(
        "toml",
        lambda n, v: f'{lower(n)} = "{v}"',
        lambda n: f'{lower(n)} = "${{{upper(n)}}}"',
        ref_kind="template",
    ),
    "hcl": Syntax(
        "hcl", lambda n, v: f'{lower(n)} = "{v}"', lambda n: f"{lower(n)} = var.{lower(n)}"
    ),
    "xml_add": Syntax(
        "xml_add",
        lambda n, v: f'<add key="{pascal(n)}" value="{v}" />',
        lambda n: f'<add key="{pascal(n)}" value="#{{{pascal(n)}}}" />',
        ref_kind="template",
    ),
    "dockerfile": Syntax(
        "dockerfile", lambda n, v: f"ENV {upper(n)}={_env_value(v)}", lambda n: f"ARG {upper(n)}"
    ),
    "groovy": Syntax(
        "groovy",
        lambda n, v: f"{upper(n)} = '{v}'",
        lambda n: f"{upper(n)} = credentials('{kebab(n)}')",
    ),
    "bat": Syntax(
        "bat",
        lambda n, v: f"set {upper(n)}={v}",
        lambda n: f"set {upper(n)}=%{upper(n)}_FROM_VAULT%",
        ref_kind="template",
    ),
    "log": Syntax(
        "log",
        lambda n, v: (
            f"2024-05-0{len(n) % 9 + 1}T12:0{len(v) % 10}:31Z DEBUG config: {upper(n)}={v}"
        ),
    ),
    "md_shell": Syntax(
        "md_shell",
        lambda n, v: f"export {upper(n)}={_shell_quote(v)}",
        lambda n: f"export {upper(n)}=<{kebab(n)}>",
        ref_kind="placeholder",
    ),
}
