"""starlette.config: Environ, Config lookups, casts, env files and the typed overloads."""

from __future__ import annotations

import functools
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from typing_extensions import assert_type

from starlette.config import Config, Environ, EnvironError, environ, undefined
from starlette.datastructures import CommaSeparatedStrings, Secret


def write_env(tmp_path: Path, text: str, name: str = ".env", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


# --- Environ ---------------------------------------------------------------------------------


def test_environ_reads_and_writes_through() -> None:
    backing = {"A": "1"}
    env = Environ(backing)
    env["B"] = "2"
    assert backing == {"A": "1", "B": "2"}
    assert env["A"] == "1"
    assert sorted(env) == ["A", "B"]
    assert len(env) == 2
    del env["B"]
    assert backing == {"A": "1"}


def test_environ_refuses_to_set_a_key_already_read() -> None:
    env = Environ({"DEBUG": "false"})
    assert env["DEBUG"] == "false"
    with pytest.raises(EnvironError) as info:
        env["DEBUG"] = "true"
    assert str(info.value) == "Attempting to set environ['DEBUG'], but the value has already been read."
    assert env["DEBUG"] == "false"


def test_environ_refuses_to_delete_a_key_already_read() -> None:
    backing = {"DEBUG": "false"}
    env = Environ(backing)
    env.get("DEBUG")
    with pytest.raises(EnvironError) as info:
        del env["DEBUG"]
    assert str(info.value) == "Attempting to delete environ['DEBUG'], but the value has already been read."
    assert backing == {"DEBUG": "false"}


def test_environ_looking_up_a_missing_key_counts_as_a_read() -> None:
    # A setting that fell back to its default would not see a later change either.
    env = Environ({})
    assert "MISSING" not in env
    with pytest.raises(EnvironError, match=r"set environ\['MISSING'\]"):
        env["MISSING"] = "now"
    with pytest.raises(KeyError):
        env["OTHER"]
    with pytest.raises(EnvironError, match=r"delete environ\['OTHER'\]"):
        del env["OTHER"]


def test_environ_keys_not_read_stay_writable() -> None:
    env = Environ({"A": "1"})
    env["A"] = "2"
    env["A"] = "3"
    del env["A"]
    env["A"] = "4"
    assert env["A"] == "4"


def test_environ_iteration_does_not_count_as_a_read() -> None:
    env = Environ({"A": "1"})
    assert list(env) == ["A"]
    assert len(env) == 1
    env["A"] = "2"


def test_environ_defaults_to_os_environ() -> None:
    key = f"STARLETTE_TEST_{uuid.uuid4().hex.upper()}"
    env = Environ()
    env[key] = "value"
    try:
        assert os.environ[key] == "value"
    finally:
        del env[key]
    assert key not in os.environ


def test_module_environ_is_an_environ_over_os_environ() -> None:
    key = f"STARLETTE_TEST_{uuid.uuid4().hex.upper()}"
    assert isinstance(environ, Environ)
    environ[key] = "x"
    try:
        assert os.environ[key] == "x"
        assert Config()(key) == "x"
        with pytest.raises(EnvironError):
            environ[key] = "y"
    finally:
        os.environ.pop(key)


# --- Config lookups ------------------------------------------------------------------------------


def test_config_reads_the_environment() -> None:
    config = Config(environ={"DATABASE_URL": "sqlite:///db"})
    assert config("DATABASE_URL") == "sqlite:///db"
    assert config.get("DATABASE_URL") == "sqlite:///db"


def test_config_missing_key_without_default() -> None:
    config = Config(environ={})
    with pytest.raises(KeyError) as info:
        config("MISSING")
    assert info.value.args == ("Config 'MISSING' is missing, and has no default.",)


def test_config_returns_the_default() -> None:
    config = Config(environ={})
    assert config("NAME", default="fallback") == "fallback"
    assert config("PORT", cast=int, default="8000") == 8000
    assert config("PORT", cast=int, default=8000) == 8000
    assert config("RATIO", cast=float, default=0.5) == 0.5


def test_config_none_default_is_returned_without_cast() -> None:
    config = Config(environ={})
    assert config("OPTIONAL", default=None) is None
    assert config("OPTIONAL", cast=int, default=None) is None
    assert config("OPTIONAL", cast=bool, default=None) is None


def test_config_undefined_is_the_default_marker() -> None:
    config = Config(environ={"A": "1"})
    assert config("A", default=undefined) == "1"
    with pytest.raises(KeyError):
        config("B", cast=int, default=undefined)


def test_config_environment_wins_over_file_which_wins_over_default(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "SHARED=from-file\nFILE_ONLY=file\n")
    config = Config(env_file, environ={"SHARED": "from-env"})
    assert config("SHARED", default="default") == "from-env"
    assert config("FILE_ONLY", default="default") == "file"
    assert config("NEITHER", default="default") == "default"


def test_config_env_prefix(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "APP_FROM_FILE=file\nUNPREFIXED=nope\n")
    config = Config(env_file, environ={"APP_DEBUG": "yes", "ENVIRONMENT": "dev"}, env_prefix="APP_")
    assert config("DEBUG") == "yes"
    assert config("FROM_FILE") == "file"
    with pytest.raises(KeyError, match="Config 'APP_ENVIRONMENT' is missing, and has no default."):
        config("ENVIRONMENT")
    with pytest.raises(KeyError, match="Config 'APP_UNPREFIXED' is missing"):
        config("UNPREFIXED")
    assert config.env_prefix == "APP_"


def test_config_attributes(tmp_path: Path) -> None:
    backing = {"A": "1"}
    config = Config(write_env(tmp_path, "B=2\n"), environ=backing)
    assert config.environ is backing
    assert config.env_prefix == ""
    assert config.file_values == {"B": "2"}
    assert Config(environ=backing).file_values == {}


def test_config_default_environ_is_the_module_environ() -> None:
    assert Config().environ is environ


def test_config_reading_marks_environ_keys_as_read() -> None:
    env = Environ({"SECRET": "s"})
    config = Config(environ=env)
    assert config("SECRET") == "s"
    assert config("ABSENT", default="d") == "d"
    with pytest.raises(EnvironError):
        env["SECRET"] = "changed"
    with pytest.raises(EnvironError):
        env["ABSENT"] = "now"


# --- casts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("True", True), ("TRUE", True), ("1", True), ("false", False), ("FaLsE", False), ("0", False)],
)
def test_config_bool_cast(raw: str, expected: bool) -> None:
    assert Config(environ={"FLAG": raw})("FLAG", cast=bool) is expected


@pytest.mark.parametrize("raw", ["yes", "on", "2", "", "truee"])
def test_config_invalid_bool(raw: str) -> None:
    with pytest.raises(ValueError) as info:
        Config(environ={"FLAG": raw})("FLAG", cast=bool)
    assert str(info.value) == f"Config 'FLAG' has value '{raw}'. Not a valid bool."


def test_config_invalid_bool_reports_the_value_case_folded() -> None:
    with pytest.raises(ValueError, match=r"^Config 'FLAG' has value 'yes'\. Not a valid bool\.$"):
        Config(environ={"FLAG": "YES"})("FLAG", cast=bool)


def test_config_bool_cast_of_non_string_default() -> None:
    config = Config(environ={})
    assert config("DEBUG", cast=bool, default=False) is False
    assert config("DEBUG", cast=bool, default=True) is True
    assert config("DEBUG", cast=bool, default="true") is True
    assert config("DEBUG", cast=bool, default=0) is False


def test_config_int_and_float_casts() -> None:
    config = Config(environ={"PORT": "8080", "RATIO": "0.25"})
    assert config("PORT", cast=int) == 8080
    assert config("RATIO", cast=float) == 0.25


@pytest.mark.parametrize(("cast", "name"), [(int, "int"), (float, "float"), (uuid.UUID, "UUID")])
def test_config_failed_cast(cast: type[object], name: str) -> None:
    with pytest.raises(ValueError) as info:
        Config(environ={"VALUE": "abc"})("VALUE", cast=cast)
    assert str(info.value) == f"Config 'VALUE' has value 'abc'. Not a valid {name}."


def test_config_failed_cast_of_default_with_type_error() -> None:
    with pytest.raises(ValueError, match=r"^Config 'PORT' has value '\[1\]'\. Not a valid int\.$"):
        Config(environ={})("PORT", cast=int, default=[1])


def test_config_failed_cast_without_a_name() -> None:
    cast = functools.partial(int, base=16)
    with pytest.raises(ValueError) as info:
        Config(environ={"VALUE": "xyz"})("VALUE", cast=cast)
    assert str(info.value) == f"Config 'VALUE' has value 'xyz'. Not a valid {cast!r}."
    assert Config(environ={"VALUE": "ff"})("VALUE", cast=cast) == 255


def test_config_other_exceptions_from_cast_propagate() -> None:
    def cast(value: str) -> str:
        raise LookupError(value)

    with pytest.raises(LookupError, match="v"):
        Config(environ={"K": "v"})("K", cast=cast)


def test_config_with_secret_and_comma_separated_strings() -> None:
    config = Config(environ={"SECRET_KEY": "s3cr3t", "ALLOWED_HOSTS": "127.0.0.1, localhost"})
    secret = config("SECRET_KEY", cast=Secret)
    assert repr(secret) == "Secret('**********')"
    assert str(secret) == "s3cr3t"
    hosts = config("ALLOWED_HOSTS", cast=CommaSeparatedStrings)
    assert list(hosts) == ["127.0.0.1", "localhost"]


# --- env files -----------------------------------------------------------------------------


def test_env_file_parsing(tmp_path: Path) -> None:
    env_file = write_env(
        tmp_path,
        "# Don't commit this to source control.\n"
        "\n"
        "DEBUG=True\n"
        "DATABASE_URL=postgresql://user:password@localhost:5432/database\n"
        "  SPACED  =  value with spaces  \n"
        'DOUBLE="double quoted"\n'
        "SINGLE='single quoted'\n"
        "EQUALS=a=b=c\n"
        "EMPTY=\n"
        "HASH=value # not a comment\n"
        "   # indented comment=ignored\n"
        "NO_EQUALS_SIGN\n"
        "DUPLICATE=first\n"
        "DUPLICATE=second\n",
    )
    config = Config(env_file, environ={})
    assert config.file_values == {
        "DEBUG": "True",
        "DATABASE_URL": "postgresql://user:password@localhost:5432/database",
        "SPACED": "value with spaces",
        "DOUBLE": "double quoted",
        "SINGLE": "single quoted",
        "EQUALS": "a=b=c",
        "EMPTY": "",
        "HASH": "value # not a comment",
        "DUPLICATE": "second",
    }
    assert config("DEBUG", cast=bool) is True
    with pytest.raises(KeyError):
        config("NO_EQUALS_SIGN")


def test_env_file_as_str_and_path(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "KEY=value\n")
    assert Config(str(env_file), environ={})("KEY") == "value"
    assert Config(env_file, environ={})("KEY") == "value"


def test_env_file_encoding(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "NAME=café\n", encoding="latin-1")
    assert Config(env_file, environ={}, encoding="latin-1")("NAME") == "café"
    assert Config(write_env(tmp_path, "NAME=café\n", name="utf8.env"), environ={})("NAME") == "café"


def test_env_file_with_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\r\nB='2'\r\n")
    assert Config(path, environ={}).file_values == {"A": "1", "B": "2"}


def test_missing_env_file_warns(tmp_path: Path) -> None:
    missing = tmp_path / "missing.env"
    with pytest.warns(UserWarning) as record:
        config = Config(missing, environ={"KEY": "from-env"})
    assert [str(w.message) for w in record] == [f"Config file '{missing}' not found."]
    assert record[0].category is UserWarning
    assert Path(record[0].filename) == Path(__file__)
    assert config.file_values == {}
    assert config("KEY") == "from-env"
    assert config("OTHER", default="d") == "d"


def test_env_file_that_is_a_directory_warns(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="not found"):
        Config(tmp_path, environ={})


_KEYS = st.from_regex(r"[A-Z_][A-Z0-9_]{0,15}", fullmatch=True)
_VALUES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]), max_size=30
).filter(lambda v: v == v.strip().strip("\"'"))


@given(values=st.dictionaries(_KEYS, _VALUES, max_size=8))
def test_env_file_round_trip(tmp_path_factory: pytest.TempPathFactory, values: dict[str, str]) -> None:
    path = tmp_path_factory.mktemp("env") / ".env"
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()), encoding="utf-8")
    config = Config(path, environ={})
    assert config.file_values == values
    for key, value in values.items():
        assert config(key) == value


@given(values=st.dictionaries(_KEYS, _VALUES, max_size=8))
def test_env_file_quoted_values_round_trip(tmp_path_factory: pytest.TempPathFactory, values: dict[str, str]) -> None:
    path = tmp_path_factory.mktemp("env") / ".env"
    path.write_text("".join(f'{key}="{value}"\n' for key, value in values.items()), encoding="utf-8")
    assert Config(path, environ={}).file_values == values


# --- static types (checked by mypy; the runtime values are checked too) ----------------------------


def test_config_overloads_give_precise_types() -> None:
    config = Config(environ={"S": "text", "I": "1", "B": "true"})
    assert assert_type(config("S"), str) == "text"
    assert assert_type(config("S", default="d"), str) == "text"
    assert assert_type(config("MISSING", default=None), "str | None") is None
    assert assert_type(config("MISSING", default=3), "str | int") == 3
    assert assert_type(config("I", cast=int), int) == 1
    assert assert_type(config("I", cast=int, default=0), int) == 1
    assert assert_type(config("MISSING", cast=int, default=None), "int | None") is None
    assert assert_type(config("B", cast=bool, default=False), bool) is True
    assert str(assert_type(config("S", cast=Secret), Secret)) == "text"
    assert assert_type(config.get("S"), str) == "text"
    assert assert_type(config.get("MISSING", default=None), "str | None") is None
    assert assert_type(config.get("I", cast=int), int) == 1
    assert assert_type(config.get("MISSING", cast=float, default=None), "float | None") is None
    assert assert_type(config.get("I", cast=float, default=2.5), float) == 1.0
