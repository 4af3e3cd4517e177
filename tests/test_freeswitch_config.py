"""The FreeSWITCH configuration shipped in freeswitch/: well-formed, fail-closed, no secrets."""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from lxml import etree

from fsctl.gateways.contexts import ACL_DOMAIN

FS_DIR = Path(__file__).resolve().parent.parent / "freeswitch"
XML_FILES = sorted(FS_DIR.rglob("*.xml"))
VAR_REF = re.compile(r"\$\$\{([^}]*)\}")
PRE = re.compile(r"<X-PRE-PROCESS\s+cmd=\"([^\"]+)\"\s+data=\"([^\"]*)\"\s*/>", re.IGNORECASE)


# -- a small model of FreeSWITCH's pre-processor (src/switch_xml.c, preprocess) ------------------


class Preprocessed:
    """The document FreeSWITCH would build from freeswitch.xml, plus what was used on the way."""

    def __init__(self, root_file: Path, env: dict[str, str] | None = None) -> None:
        self.vars: dict[str, str] = dict(env or {})
        self.undefined: set[str] = set()
        self.included: set[Path] = set()
        self.empty_globs: list[str] = []
        self.text = "".join(self._file(root_file))

    def _expand(self, line: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.vars:
                self.undefined.add(name)
            return self.vars.get(name, "")

        return VAR_REF.sub(value, line)

    def _file(self, path: Path) -> list[str]:
        self.included.add(path.resolve())
        out: list[str] = []
        for raw in path.read_text(encoding="utf-8").splitlines(keepends=True):
            line = self._expand(raw)
            # FreeSWITCH drops these lines whole.
            if "<include>" in line or "</include>" in line or "<?" in line:
                continue
            match = PRE.search(line)
            if match:
                cmd, data = match.group(1).lower(), match.group(2)
                if cmd == "set":
                    name, _, val = data.partition("=")
                    self.vars[name.strip()] = val.strip()
                elif cmd == "include":
                    matches = sorted(glob.glob(str(path.parent / data)))
                    if not matches:
                        self.empty_globs.append(data)
                    for inc in matches:
                        out.extend(self._file(Path(inc)))
                else:
                    raise AssertionError(f"unexpected pre-processor command {cmd} in {path}")
                continue
            out.append(line)
        return out


SAMPLE_ENV = {
    "local_ip_v4": "192.0.2.2",
    "log_dir": "/var/log/freeswitch",
    "sounds_dir": "/usr/share/freeswitch/sounds",
}


@pytest.fixture(scope="module")
def document() -> Preprocessed:
    return Preprocessed(FS_DIR / "freeswitch.xml", SAMPLE_ENV)


@pytest.fixture(scope="module")
def tree(document: Preprocessed) -> etree._Element:
    return etree.fromstring(document.text.encode())


def _parse(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def _params(node: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in node.findall("param")}


def _config(tree: etree._Element, name: str) -> etree._Element:
    found = tree.xpath("/document/section[@name='configuration']/configuration[@name=$n]", n=name)
    assert len(found) == 1, name
    return found[0]


# -- well-formedness ---------------------------------------------------------------------------------


def test_there_are_config_files() -> None:
    names = {p.relative_to(FS_DIR).as_posix() for p in XML_FILES}
    for expected in [
        "freeswitch.xml",
        "vars.xml",
        "autoload_configs/modules.conf.xml",
        "autoload_configs/xml_curl.conf.xml",
        "autoload_configs/event_socket.conf.xml",
        "autoload_configs/json_cdr.conf.xml",
        "autoload_configs/sofia.conf.xml",
        "autoload_configs/acl.conf.xml",
        "sip_profiles/internal.xml",
        "sip_profiles/carrier.xml",
        "directory/default.xml",
        "dialplan/public.xml",
        "dialplan/default.xml",
    ]:
        assert expected in names


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.relative_to(FS_DIR).as_posix())
def test_each_file_parses_on_its_own(path: Path) -> None:
    root = _parse(path)
    assert root.tag in {"document", "include"}


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.relative_to(FS_DIR).as_posix())
def test_preprocessor_pitfalls_avoided(path: Path) -> None:
    # The pre-processor ignores XML comments: a directive in a comment would run, and a line
    # naming it without "<" is dropped (which can eat a comment's end).
    for comment in _parse(path).iter(etree.Comment):
        assert "x-pre-process" not in (comment.text or "").lower()
    for line in path.read_text(encoding="utf-8").splitlines():
        if "<include>" in line or "</include>" in line or "<?" in line:
            assert line.strip() in {"<include>", "</include>"} or line.startswith("<?xml"), line


def test_whole_document_assembles(document: Preprocessed, tree: etree._Element) -> None:
    assert tree.tag == "document"
    assert not document.undefined, f"variables used but never set: {document.undefined}"
    sections = [s.get("name") for s in tree.findall("section")]
    assert sections == ["configuration", "dialplan", "directory", "languages"]


def test_every_file_is_included_and_only_optional_globs_are_empty(document: Preprocessed) -> None:
    for path in XML_FILES:
        assert path.resolve() in document.included, f"{path} is never included"
    assert set(document.empty_globs) <= {"vars.d/*.xml", "lang/*/*.xml"}


# -- xml_curl -------------------------------------------------------------------------------------------


def test_xml_curl_bindings_post_to_kumo_with_timeout(tree: etree._Element) -> None:
    bindings = _config(tree, "xml_curl.conf").findall("bindings/binding")
    # One binding per section and kumo instance (each posts its section's fields: test_posted_fields.py).
    assert len(bindings) == 6
    sections = [binding.find("param[@name='gateway-url']").get("bindings") for binding in bindings]
    assert sorted(sections) == sorted(["directory", "dialplan", "configuration"] * 2)
    for binding in bindings:
        url = binding.find("param[@name='gateway-url']")
        assert url.get("value").endswith("/fs/xml")
        params = _params(binding)
        assert int(params["timeout"]) > 0
        assert params["auth-scheme"] == "basic"
        assert params["disable-100-continue"] == "true"
        assert params["gateway-credentials"]


def test_xml_curl_urls_and_credentials_come_from_vars() -> None:
    conf = _parse(FS_DIR / "autoload_configs/xml_curl.conf.xml")
    for binding in conf.iter("binding"):
        params = _params(binding)
        assert VAR_REF.fullmatch(params["gateway-url"])
        assert VAR_REF.fullmatch(params["gateway-credentials"])


# -- secrets ----------------------------------------------------------------------------------------------


# password, cred, gateway-credentials, ssl-key-password, tls-passphrase, vm-password, a1-hash ...
SECRET_PARAM = re.compile(r"(^|-)(password|passphrase|cred|credentials|a1-hash)$", re.IGNORECASE)


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.relative_to(FS_DIR).as_posix())
def test_no_users_and_no_literal_passwords(path: Path) -> None:
    root = _parse(path)
    assert not root.xpath("//user | //users"), f"{path} defines users"
    assert "<user" not in path.read_text(encoding="utf-8")
    for param in root.iter("param", "variable"):
        if SECRET_PARAM.search(param.get("name", "")):
            assert VAR_REF.fullmatch(param.get("value", "")), (
                f"{path}: {param.get('name')} has a literal value"
            )


# FreeSWITCH's vanilla defaults that attackers try first: the ESL password and the users' default_password.
WELL_KNOWN_DEFAULTS = re.compile(r"ClueCon|default_password|\b1234\b")


@pytest.mark.parametrize(
    "path",
    sorted(p for p in FS_DIR.rglob("*") if p.is_file()),
    ids=lambda p: p.relative_to(FS_DIR).as_posix(),
)
def test_no_well_known_default_password_anywhere(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert not WELL_KNOWN_DEFAULTS.search(text), f"{path} mentions a vanilla default password"


def test_secret_vars_default_to_placeholders() -> None:
    vars_ = Preprocessed(FS_DIR / "vars.xml", SAMPLE_ENV).vars
    secrets = {k: v for k, v in vars_.items() if re.search(r"password|credentials|username", k)}
    assert {"kumo_esl_password", "kumo_http_credentials", "kumo_carrier_password"} <= set(secrets)
    for name, value in secrets.items():
        assert "CHANGE-ME" in value, name


# -- fail closed ------------------------------------------------------------------------------------------


REJECTING_APPS = {"log", "hangup", "respond"}


def test_system_commands_are_disabled(document: Preprocessed) -> None:
    # Defence in depth, kumo never needs the shell: read by mod_commands / mod_dptools at load
    # (tests/e2e/test_injection.py runs it).
    assert document.vars["disable_system_api_commands"] == "true"
    assert document.vars["disable_system_app_commands"] == "true"


def test_static_dialplan_only_rejects(tree: etree._Element) -> None:
    contexts = tree.xpath("/document/section[@name='dialplan']/context")
    assert {c.get("name") for c in contexts} >= {"public", "default", "global"}
    for context in contexts:
        actions = context.xpath(".//action | .//anti-action")
        assert actions
        apps = {a.get("application") for a in actions}
        assert apps <= REJECTING_APPS, f"{context.get('name')}: {apps}"
        assert "bridge" not in apps and "transfer" not in apps
        for extension in context.findall("extension"):
            assert extension.xpath(".//action")[-1].get("application") in {"hangup", "respond"}


def test_static_directory_is_empty(tree: etree._Element) -> None:
    directory = tree.xpath("/document/section[@name='directory']")[0]
    assert len(directory) == 0 or not directory.xpath(".//domain | .//user | .//param")


# -- sofia, ACL, event socket, CDR, modules --------------------------------------------------------------


def _profile(tree: etree._Element, name: str) -> etree._Element:
    return _config(tree, "sofia.conf").xpath("profiles/profile[@name=$n]", n=name)[0]


def test_internal_profile_authenticates_everyone(tree: etree._Element) -> None:
    settings = _params(_profile(tree, "internal").find("settings"))
    assert settings["auth-calls"] == "true"
    assert settings["accept-blind-reg"] == "false"
    assert settings["accept-blind-auth"] == "false"
    assert settings["auth-all-packets"] == "false"
    assert settings["auth-subscriptions"] == "true"
    assert settings["inbound-reg-force-matching-username"] == "true"
    # realm = the domain addressed: a request into another tenant's domain is checked against that
    # tenant's user, even when the switch holds the caller's own user cached
    assert settings["challenge-realm"] == "auto_to"
    assert settings["context"] == "public"
    assert int(settings["nonce-ttl"]) >= 60
    # digest hygiene: short-lived nonces, bounded reuse, MESSAGE challenged too
    assert int(settings["nonce-ttl"]) <= 300
    assert 0 < int(settings["max-auth-validity"]) <= 1000
    assert settings["auth-messages"] == "true"
    assert "NDLB-broken-auth-hash" not in settings  # would retry a failed digest with another method
    assert "disable-auth-messages" not in settings and "disable-auth-subscriptions" not in settings
    # multi-tenant: the domain is the tenant
    assert "force-register-domain" not in settings
    assert "force-register-db-domain" not in settings
    # an address matching apply-inbound-acl would skip digest auth on this profile
    assert "apply-inbound-acl" not in settings
    assert settings["inbound-codec-prefs"] == "PCMU,PCMA,OPUS"


def test_carrier_profile_is_acl_guarded(tree: etree._Element) -> None:
    profile = _profile(tree, "carrier")
    settings = _params(profile.find("settings"))
    acls = [p.get("value") for p in profile.find("settings").findall("param[@name='apply-inbound-acl']")]
    assert acls == ["carriers", "kumo-gateways"]  # the carrier first; then customer gateways
    assert settings["context"] == "public"
    assert settings["disable-register"] == "true"
    gateways = profile.findall("gateways/gateway")
    assert [g.get("name") for g in gateways] == ["carrier"]
    acl = _config(tree, "acl.conf").xpath("network-lists/list[@name='carriers']")[0]
    assert acl.get("default") == "deny"
    gateways_acl = _config(tree, "acl.conf").xpath("network-lists/list[@name='kumo-gateways']")[0]
    assert gateways_acl.get("default") == "deny"
    assert [(n.get("type"), n.get("domain")) for n in gateways_acl.findall("node")] == [("allow", ACL_DOMAIN)]


def test_event_socket_listens_on_loopback(tree: etree._Element) -> None:
    settings = _params(_config(tree, "event_socket.conf").find("settings"))
    assert settings["listen-ip"] == "127.0.0.1"
    assert settings["listen-port"] == "8021"
    assert settings["apply-inbound-acl"] == "loopback.auto"
    assert settings["password"]  # an empty one would become FreeSWITCH's well-known default


def test_json_cdr_posts_to_kumo_and_spools(tree: etree._Element) -> None:
    conf = _config(tree, "json_cdr.conf").find("settings")
    urls = [p.get("value") for p in conf.findall("param[@name='url']")]
    assert urls and all(u.endswith("/fs/cdr") for u in urls)
    settings = _params(conf)
    assert int(settings["retries"]) > 0 and int(settings["delay"]) > 0 and int(settings["timeout"]) > 0
    assert settings["log-b-leg"] == "true"
    assert settings["encode-values"] == "false"
    assert settings["err-log-dir"]
    assert "queue-capacity" not in settings  # queued records are dropped at shutdown


def test_modules(tree: etree._Element) -> None:
    loaded = [m.get("module") for m in _config(tree, "modules.conf").iter("load")]
    for needed in [
        "mod_xml_curl",
        "mod_event_socket",
        "mod_sofia",
        "mod_json_cdr",
        "mod_dptools",
        "mod_commands",
        "mod_dialplan_xml",
        "mod_valet_parking",
        "mod_voicemail",
        "mod_hash",
        "mod_opus",
        "mod_say_en",
        "mod_say_ja",  # the dates of voicemail messages for Japanese-speaking tenants
    ]:
        assert needed in loaded
    assert len(loaded) == len(set(loaded))
    assert loaded.index("mod_xml_curl") < loaded.index("mod_sofia")


# -- deploy.sh -------------------------------------------------------------------------------------------


def _deploy(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(FS_DIR / "deploy.sh"), str(target)], capture_output=True, text=True, check=False
    )


def test_deploy_into_empty_dir(tmp_path: Path) -> None:
    target = tmp_path / "conf"
    result = _deploy(target)
    assert result.returncode == 0, result.stderr
    assert (target / "freeswitch.xml").read_bytes() == (FS_DIR / "freeswitch.xml").read_bytes()
    assert (target / "sip_profiles/internal.xml").is_file()
    assert not (target / "deploy.sh").exists()
    assert "kumo_esl_password" in result.stderr  # placeholder still in effect
    assert not list(tmp_path.glob("conf.kumo-backup-*"))


def test_deploy_over_existing_conf_backs_up_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "conf"
    (target / "directory/default").mkdir(parents=True)
    (target / "directory/default/1000.xml").write_text("<include/>")
    (target / "vars.d").mkdir()
    local = target / "vars.d/local.xml"
    local.write_text(
        "<include>\n"
        + "".join(
            f'  <X-PRE-PROCESS cmd="set" data="{name}=secret-{name}"/>\n'
            for name in [
                "kumo_esl_password",
                "kumo_http_credentials",
                "kumo_carrier_username",
                "kumo_carrier_password",
            ]
        )
        + "</include>\n"
    )
    result = _deploy(target)
    assert result.returncode == 0, result.stderr
    backups = list(tmp_path.glob("conf.kumo-backup-*"))
    assert len(backups) == 1
    assert (backups[0] / "directory/default/1000.xml").is_file()
    assert not (target / "directory/default/1000.xml").exists()  # old example users are gone
    assert local.read_text().count("secret-") == 4  # operator's vars kept
    assert "CHANGE-ME" not in result.stderr
    doc = Preprocessed(target / "freeswitch.xml", SAMPLE_ENV)
    assert doc.vars["kumo_esl_password"] == "secret-kumo_esl_password"


def test_deploy_refuses_bad_arguments(tmp_path: Path) -> None:
    assert _deploy(FS_DIR).returncode != 0
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert _deploy(not_a_dir).returncode != 0
    assert (
        subprocess.run(["bash", str(FS_DIR / "deploy.sh")], capture_output=True, check=False).returncode != 0
    )


def test_deploy_script_is_valid_bash() -> None:
    assert shutil.which("bash")
    subprocess.run(["bash", "-n", str(FS_DIR / "deploy.sh")], check=True)


def test_conference_profile_asks_the_pin_with_kumos_prompts(tree: etree._Element) -> None:
    """mod_conference is loaded and its one profile `kumo` (fsctl.routing.conference.PROFILE) names
    kumo's own prompts: without them it would ask with conference/conf-pin.wav, which kumo never ships."""
    from fsctl.media.prompts import PHRASES_FILE
    from fsctl.routing.conference import PROFILE

    assert "mod_conference" in [m.get("module") for m in _config(tree, "modules.conf").iter("load")]
    profiles = _config(tree, "conference.conf").xpath("profiles/profile[@name=$n]", n=PROFILE)
    assert len(profiles) == 1
    params = {p.get("name"): p.get("value") for p in profiles[0].iter("param")}
    assert params["pin-retries"] == "3"
    prompts = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))["prompts"]
    for key in ("pin-sound", "bad-pin-sound", "max-members-sound"):
        name = params[key].removesuffix(".wav")
        assert set(prompts[name]) == {"ja", "en"}, key
    assert "max-members" not in params and "moh-sound" not in params  # per room, from the call


def test_callcenter_loads_after_xml_curl_with_an_empty_fallback(tree: etree._Element) -> None:
    """mod_callcenter refuses to load without a callcenter.conf: the static one is the fallback when kumo
    does not answer (no queues: fail closed) and truncates the module's own agents and tiers at load, so
    an agent kumo removed never comes back from the module's SQLite file. It loads after mod_xml_curl,
    which is what lets kumo answer its callcenter.conf."""
    from fsctl.media.prompts import PHRASES_FILE
    from fsctl.routing.queues import POSITION_AFTER, POSITION_BEFORE

    modules = [m.get("module") for m in _config(tree, "modules.conf").iter("load")]
    assert modules.index("mod_xml_curl") < modules.index("mod_callcenter")
    config = _config(tree, "callcenter.conf")
    settings = {p.get("name"): p.get("value") for p in config.iter("param")}
    assert settings == {"truncate-agents-on-load": "true", "truncate-tiers-on-load": "true"}
    assert not list(config.iter("queue")) and not list(config.iter("agent")) and not list(config.iter("tier"))
    prompts = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))["prompts"]
    for path in (POSITION_BEFORE, POSITION_AFTER):
        assert set(prompts[path.removesuffix(".wav")]) == {"ja", "en"}
