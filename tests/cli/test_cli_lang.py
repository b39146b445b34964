"""The command line speaks Chinese by default and English with ``--lang en`` or ``GRIDSVC_LANG=en``.

Finding (issue 19, 8): every message was English, while every user is
Chinese. Help texts are chosen when the commands are declared, so ``--help``
is run in a fresh process; messages are checked in this one.
"""

from __future__ import annotations

import inspect
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

import gridsvc.cli
import gridsvc.core.errors as errors
from gridsvc.cli import app, texts
from gridsvc.cli.root import hoist_lang
from gridsvc.core.kinds import LayerKind
from gridsvc.core.messages import TITLES
from gridsvc.maps.labels import _TEXT as MAP_TEXT

DATA = Path(__file__).parent.parent / "data"
GRIDS = DATA / "layer_grids.geojson"  # 4 squares, no gaps, no overlaps
CLI_DIR = Path(gridsvc.cli.__file__).parent

runner = CliRunner()


def gridsvc_cmd(*args: str, lang: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m gridsvc ARGS`` in a fresh process, with ``GRIDSVC_LANG`` unset or ``lang``."""
    env = {k: v for k, v in os.environ.items() if k != "GRIDSVC_LANG"}
    if lang is not None:
        env["GRIDSVC_LANG"] = lang
    return subprocess.run(
        [sys.executable, "-m", "gridsvc", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def no_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDSVC_LANG", raising=False)


def run(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args])


# --help, in a fresh process each


def test_help_is_chinese_by_default() -> None:
    done = gridsvc_cmd("--help")
    assert done.returncode == 0, done.stderr
    for words in ("网格化管理服务", "检查图层文件", "属地管理清单", "各角色的 API 密钥"):
        assert words in done.stdout
    assert "Check a layer file" not in done.stdout


def test_layers_help_is_chinese_by_default() -> None:
    done = gridsvc_cmd("layers", "--help")
    assert done.returncode == 0, done.stderr
    assert "发布草案" in done.stdout and "回退" in done.stdout
    assert "─ 命令 ─" in done.stdout and "─ 选项 ─" in done.stdout  # typer's panel titles
    assert "Publish a draft" not in done.stdout and "Commands" not in done.stdout


def test_an_option_default_is_said_in_chinese() -> None:
    done = gridsvc_cmd("map", "coverage", "--help")
    assert done.returncode == 0, done.stderr
    assert "[默认：maps/coverage.html]" in done.stdout and "default:" not in done.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["match", "x.csv"], "缺少选项 '--out' / '-o'。"),
        (["validate"], "缺少参数 'file'。"),
        (["validate", "x", "--parnt", "p"], "没有选项 --parnt（可用的选项：--parent"),
        (["validate", "x", "--kind", "foo"], "'--kind' 的值无效：'foo' 不是以下之一："),
        (["serve", "--workers", "0"], "'--workers' 的值无效：应不小于 1"),
        (["keys", "revoke", "abc"], "'key_id' 的值无效：应为整数"),
        (["layers", "histroy"], "没有命令 'histroy'（是否要用 'history'？）"),
        (["validate", "x", "y"], "多余的参数（y）"),
        (["validate", "x", "--kind"], "选项 '--kind' 需要一个值。"),
    ],
)
def test_a_mistyped_command_line_is_told_in_chinese(
    args: list[str], said: str, no_lang: None
) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert said in " ".join(result.output.replace("│", " ").split()), result.output
    assert "─ 错误 ─" in result.output and "Missing" not in result.output


def test_a_mistyped_command_line_in_english(no_lang: None) -> None:
    result = run("match", "x.csv", "--lang", "en")
    assert result.exit_code == 2 and "Missing option '--out' / '-o'." in result.output


@pytest.mark.parametrize(
    ("args", "lang"),
    [
        (("--lang", "en", "layers", "--help"), None),
        (("layers", "--help", "--lang", "en"), None),  # anywhere on the line
        (("layers", "--help", "--lang=en"), None),
        (("layers", "--help"), "en"),
        (("--lang", "en", "layers", "--help"), "zh"),  # the option wins over the environment
    ],
)
def test_help_in_english(args: tuple[str, ...], lang: str | None) -> None:
    done = gridsvc_cmd(*args, lang=lang)
    assert done.returncode == 0, done.stderr
    assert "Publish a draft" in done.stdout and "发布草案" not in done.stdout


def test_a_commands_own_lang_speaks_its_help_in_english() -> None:
    done = gridsvc_cmd("map", "coverage", "--help", "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert "the HTML file to write" in done.stdout


# messages, in this process


def test_a_successful_command_speaks_chinese(no_lang: None) -> None:
    result = run("validate", GRIDS)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "4 个责任网格要素，0 个问题，其中 0 个阻止发布" in said
    assert "feature(s)" not in said and "blocking" not in said


@pytest.mark.parametrize("how", ["root", "after", "env"])
def test_a_successful_command_in_english(
    how: str, no_lang: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    args: list[object] = {
        "root": ["--lang", "en", "validate", GRIDS],
        "after": ["validate", GRIDS, "--lang", "en"],
        "env": ["validate", GRIDS],
    }[how]
    if how == "env":
        monkeypatch.setenv("GRIDSVC_LANG", "en")
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "4 grids feature(s), 0 problem(s), 0 blocking" in " ".join(result.stdout.split())


def test_a_failing_command_names_the_error_in_chinese(no_lang: None, tmp_path: Path) -> None:
    result = run("validate", tmp_path / "missing.geojson")
    assert result.exit_code == 2
    said = result.stderr.strip()
    assert said.startswith("错误（文件无法读取）：") and "missing.geojson" in said
    assert "error:" not in said and "Traceback" not in result.output


def test_a_cli_message_of_its_own_is_chinese(no_lang: None, tmp_path: Path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("lon,lat\n121.405,31.205\n", encoding="utf-8")
    result = run("match", points, "-o", tmp_path / "o.csv", "--crs", "wgs84", "--crs-col", "c")
    assert result.exit_code == 2
    assert result.stderr.strip() == "错误（输入无效）：--crs 和 --crs-col 只能给一个"


def test_a_blocking_problem_table_is_chinese(no_lang: None) -> None:
    result = run("validate", DATA / "layer_grids_overlap.geojson")
    assert result.exit_code == 1
    assert "问题类型" in result.stderr and "阻止发布" in result.stderr and "是" in result.stderr
    assert "1 个阻止发布" in " ".join(result.stdout.split())


def test_a_failing_command_in_english(no_lang: None, tmp_path: Path) -> None:
    result = run("validate", tmp_path / "missing.geojson", "--lang", "en")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: ") and "错误" not in result.stderr


def test_an_unknown_language_is_refused_with_the_ones_spoken(no_lang: None) -> None:
    result = run("--lang", "fr", "validate", GRIDS)
    assert result.exit_code == 2
    # Chinese, the language it falls back to while refusing
    assert "未知语言 'fr'" in result.stderr and "zh、en" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["validate", "f", "--lang", "en"], ["--lang", "en", "validate", "f"]),
        (["validate", "--lang=en", "f"], ["--lang=en", "validate", "f"]),
        (["--lang", "en", "validate", "f"], ["--lang", "en", "validate", "f"]),
        (["map", "coverage", "--lang", "en"], ["map", "coverage", "--lang", "en"]),  # its own
        (["report", "evaluation", "--lang", "en"], ["report", "evaluation", "--lang", "en"]),
        (["layers", "upload", "grids", "--", "--lang"], ["layers", "upload", "grids", "--", "--lang"]),
    ],
)  # fmt: skip
def test_lang_is_taken_anywhere(args: list[str], expected: list[str]) -> None:
    from typer.main import get_command

    assert hoist_lang(get_command(app), args) == expected  # type: ignore[arg-type]


def test_import_time_language_from_argv_then_environment() -> None:
    assert texts.lang_in(["layers", "--help"], {}) == "zh"
    assert texts.lang_in(["layers", "--help"], {"GRIDSVC_LANG": "en"}) == "en"
    assert texts.lang_in(["--lang", "zh", "layers"], {"GRIDSVC_LANG": "en"}) == "zh"
    assert texts.lang_in(["x", "--lang=en"], {}) == "en"
    assert texts.lang_in(["--lang", "fr"], {}) == "zh"  # refused later, with a message


# the catalogue


def _fields(words: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(words) if name is not None}


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    for key, words in texts.TEXT.items():
        assert set(words) == set(texts.LANGS), key
        assert all(w.strip() for w in words.values()), key
        assert _fields(words["zh"]) == _fields(words["en"]), key


CALL = re.compile(r"""\bt\(\s*["']([^"']+)["']""")


def test_every_key_used_in_the_cli_exists() -> None:
    used = {key for path in CLI_DIR.glob("*.py") for key in CALL.findall(path.read_text("utf-8"))}
    assert len(used) > 100  # the scan sees the calls
    known = texts.TEXT.keys() | MAP_TEXT.keys()
    assert sorted(used - known) == []


#: a string literal given where users read it: printed, a title, a help text, an error raised
SHOWN = re.compile(
    r"""(?:\b(?:print|status|fail|Table|Column|confirm|InvalidInput|InvalidLayer)\(|help=)"""
    r'\s*f?"([^"\n]*)"'
)


def test_the_cli_shows_no_english_words_outside_the_catalogue() -> None:
    """An English message written straight into the code would escape the translation."""
    shown = [
        (path.name, literal)
        for path in CLI_DIR.glob("*.py")
        if path.name != "texts.py"
        for literal in SHOWN.findall(path.read_text("utf-8"))
    ]
    assert len(shown) >= 2  # the scan sees the f-strings that are only placeholders
    words = [
        (name, lit)
        for name, lit in shown
        if re.search(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}", "", lit))
    ]
    assert words == []


def test_every_error_class_has_a_title_in_both_languages() -> None:
    classes = [
        c
        for _, c in inspect.getmembers(errors, inspect.isclass)
        if issubclass(c, errors.GridsvcError)
    ]
    assert len(classes) > 20
    missing = sorted(c.code for c in classes if set(TITLES.get(c.code, {})) != {"zh", "en"})
    assert missing == []


def test_an_error_without_a_title_of_its_own_takes_its_base_classes() -> None:
    class NewKind(errors.InvalidLayer):
        code = "new-kind"

    assert texts.error_title(NewKind("x")) == "图层无效"
    assert texts.error_title(errors.StaleVersion("x")) == "数据已被修改"


@pytest.mark.parametrize("lang", texts.LANGS)
def test_every_level_has_a_name(lang: str) -> None:
    texts.set_lang(lang)
    try:
        names = [texts.level(k) for k in LayerKind]
    finally:
        texts.set_lang("zh")
    assert len(set(names)) == len(LayerKind)
    if lang == "zh":
        assert "责任网格" in names and "基本管理单元" in names and "居村委" in names


def test_the_catalogue_imports_nothing_heavy() -> None:
    """gridsvc.maps.labels, which texts.py reads, imports only gridsvc.core.errors of gridsvc,
    and the messages' catalogue it raises with (plain dicts)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import gridsvc.maps.labels"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    names = {ln.rsplit("|", 1)[1].strip() for ln in done.stderr.splitlines() if "|" in ln}
    ours = {n for n in names if n.startswith("gridsvc")}
    assert ours == {
        "gridsvc",
        "gridsvc.maps",
        "gridsvc.maps.labels",
        "gridsvc.core",
        "gridsvc.core.errors",
        "gridsvc.core.messages",
        *(
            f"gridsvc.core.messages._{part}"
            for part in ("core", "services", "planning", "api", "files", "validation")
        ),
    }
    source = (CLI_DIR / "texts.py").read_text("utf-8")
    imported = set(re.findall(r"^(?:from|import) ([\w.]+)", source, re.M))
    assert imported <= {
        "__future__",
        "os",
        "sys",
        "collections.abc",
        "typing",
        "gridsvc.maps.labels",
        "gridsvc.core.errors",
    }


def test_every_problem_kind_and_version_status_has_a_chinese_name() -> None:
    from gridsvc.cli.context import problem_kind, version_status
    from gridsvc.core.validation import ProblemKind

    texts.set_lang("zh")  # what the commands run before left is not this test's business
    assert [k.value for k in ProblemKind if problem_kind(k.value) == k.value] == []
    assert [version_status(s) for s in ("draft", "published", "retired")] == [
        "草案",
        "已发布",
        "已停用",
    ]


def test_validate_lists_each_problem_in_chinese(no_lang: None) -> None:
    """A planner's overlap is listed in Chinese, its codes named (it was English)."""
    data = Path(__file__).resolve().parents[1] / "data" / "layer_grids_overlap.geojson"
    result = run("validate", data)
    assert result.exit_code == 1
    said = "".join(result.stderr.split())  # the table may wrap a cell anywhere
    assert "重叠" in said and "310106113001" in said, result.stderr
    assert "overlapby" not in said


def test_demo_load_names_the_district_it_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_lang: None
) -> None:
    """make run loads 示范区: the closing line names it, not 示范镇 (as it did)."""
    district = Path(__file__).resolve().parents[2] / "data" / "demo-district"
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", f"sqlite:///{tmp_path / 'g.db'}")
    monkeypatch.setenv("GRIDSVC_DEMO_DIR", str(district))
    loaded = run("demo", "load", "--no-history")
    assert loaded.exit_code == 0, loaded.output
    assert "已装入示范区：" in loaded.stdout and "示范镇" not in loaded.stdout


# a planner's session on a real database, in Chinese


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_lang: None) -> str:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", url)
    loaded = run("demo", "load", "--no-history")
    assert loaded.exit_code == 0, loaded.output
    assert "已装入示范镇：6 个图层" in loaded.stdout and "loaded" not in loaded.stdout
    return url


def test_publish_asks_in_chinese_and_takes_y_or_n(database: str, tmp_path: Path) -> None:
    import geopandas as gpd

    from gridsvc.config import Settings

    path = tmp_path / "same.gpkg"
    gpd.read_file(Settings().town_file, layer="grids").to_file(path, layer="grids")
    made = run("layers", "upload", "grids", path)
    assert made.exit_code == 0, made.output
    draft = re.search(r"草案 (\d+)：14 个要素", made.stdout).group(1)  # type: ignore[union-attr]
    declined = runner.invoke(app, ["layers", "publish", "grids", draft], input="n\n")
    assert declined.exit_code == 1
    assert f"发布草案 {draft}，替换现行版本 3" in declined.output and "[y/N]" in declined.output
    assert "未做任何改动；加 --yes" in declined.output and "nothing" not in declined.output
    history = run("layers", "history", "grids")
    assert "草案" in history.stdout and "已发布" in history.stdout
    agreed = runner.invoke(app, ["layers", "publish", "grids", draft], input="y\n")
    assert agreed.exit_code == 0, agreed.output
    assert f"已发布版本 {draft}，停用版本 3" in agreed.output
    back = runner.invoke(app, ["layers", "rollback", "grids"], input="y\n")
    assert back.exit_code == 0, back.output
    assert f"用上一个版本替换现行的责任网格版本 {draft}？" in back.output
    assert "已把版本 3 恢复为版本" in back.output
    again = run("demo", "load")
    assert again.stdout.strip() == "数据库中已有城镇，未装入任何内容"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ["网格化管理服务", "试一试", "案件需要密钥"]),
        ("en", ["API docs", "try:", "cases need a key"]),
    ],
)
def test_the_serve_banner(lang: str, words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from gridsvc.cli.serve import _serve_banner
    from gridsvc.config import Settings

    texts.set_lang(lang)
    try:
        _serve_banner(Settings(host="127.0.0.1", port=8123))
    finally:
        texts.set_lang("zh")
    said = capsys.readouterr().out
    assert "http://127.0.0.1:8123/ogc" in said and all(w in said for w in words), said


@pytest.fixture
def codeless(tmp_path: Path) -> Path:
    """The test grids with their ``code`` property renamed: the file names no code field."""
    path = tmp_path / "codeless.geojson"
    path.write_text(GRIDS.read_text("utf-8").replace('"code"', '"bianma"'), "utf-8")
    return path


def test_a_domain_error_is_chinese_by_default_and_names_the_flag(
    no_lang: None, codeless: Path
) -> None:
    result = run("validate", codeless, "--kind", "grids")
    assert result.exit_code == 2
    said = result.stderr.strip()
    assert (
        said.startswith("错误（图层无效）：")
        and "codeless.geojson 中没有 code（字段 'code'）" in said
    )
    assert "请用 --code-field、--name-field、--parent-field 指明正确的字段" in said
    assert "code_field=" not in said and "has no" not in said


def test_a_domain_error_in_english_with_lang_en(no_lang: None, codeless: Path) -> None:
    result = run("validate", codeless, "--kind", "grids", "--lang", "en")
    assert result.exit_code == 2
    said = result.stderr.strip()
    assert said.startswith("error: ") and "codeless.geojson has no code (field 'code')" in said
    assert "name the right ones with --code-field, --name-field, --parent-field" in said
    assert not any("\u4e00" <= c <= "\u9fff" for c in said)
