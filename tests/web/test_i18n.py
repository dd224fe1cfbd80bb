"""Pages, refusals and API details in the reader's language; catalogs complete."""

from __future__ import annotations

import re

import pytest

from app.web.catalogs import extract, read_catalog
from app.web.domain_messages import TEMPLATES, message_parts, translate_message
from app.web.i18n import (
    ENGLISH,
    SIMPLIFIED,
    TRADITIONAL,
    choose_locale,
    language_name,
    negotiate,
    use_locale,
)
from app.web.templating import TEMPLATES_DIR
from tests.builders import add_person
from tests.web.test_pages import csrf_of, logged_in, take_next
from transcribe.conventions import validate_transcript

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    use_locale(ENGLISH)


def _forms(text) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def test_every_message_in_the_code_and_templates_has_a_chinese_translation() -> None:
    # Extracted afresh with Babel, so a new {{ _("...") }} fails here until it is translated.
    extracted = {message.id for message in extract() if message.id}
    for locale in (SIMPLIFIED, TRADITIONAL):
        catalog = read_catalog(locale)
        untranslated = sorted(
            str(msgid)
            for msgid in extracted
            if catalog.get(msgid) is None or not all(_forms(catalog.get(msgid).string))
        )
        assert untranslated == [], f"{locale} lacks translations for: {untranslated}"
    assert len(extracted) > 250


# Words a page may show as written in every language: key names and the product's name.
UNTRANSLATED_WORDS = frozenset({"Esc", "Ctrl", "Alt", "Space", "Enter", "R", "L", "crowdscribe"})
SHOWN_ATTRIBUTES = re.compile(r'\b(placeholder|aria-label|title|alt)="([^"]*)"')
ZONE_EXAMPLE = re.compile(r"^[A-Z][a-z]+/[A-Z][a-z_]+$")  # placeholder="Asia/Shanghai"


def english_left_in(template: str) -> list[str]:
    """Text of a template a reader sees that is not inside ``_()`` (markup, Jinja, code, keys
    and the product's name aside)."""
    text = re.sub(r"{#.*?#}", "", template, flags=re.S)
    text = re.sub(r"<(script|style|code|kbd)\b.*?</\1>", "", text, flags=re.S)
    text = re.sub(r"{{.*?}}|{%.*?%}", "", text, flags=re.S)
    found = [
        value
        for _name, value in SHOWN_ATTRIBUTES.findall(text)
        if not ZONE_EXAMPLE.match(value)
        and set(re.findall(r"[A-Za-z]+", value)) - UNTRANSLATED_WORDS
    ]
    text = re.sub(r"<[^>]*>", " ", text)
    for line in text.splitlines():
        if set(re.findall(r"[A-Za-z]{2,}", line)) - UNTRANSLATED_WORDS:
            found.append(line.strip())
    return found


def test_english_left_in_a_template_is_found() -> None:
    assert english_left_in('<p>People <a href="/x">{{ _("Overview") }}</a></p>') == ["People"]
    assert english_left_in('<input placeholder="Why">') == ["Why"]
    assert english_left_in("<kbd>Esc</kbd> <input placeholder=\"{{ _('Why') }}\">") == []


@pytest.mark.parametrize("path", sorted(TEMPLATES_DIR.glob("*.html")), ids=lambda p: p.name)
def test_every_template_shows_only_translated_text(path) -> None:
    # Coordinator pages included: a string outside _() is English on a Chinese page.
    assert english_left_in(path.read_text(encoding="utf-8")) == []


def test_translations_keep_every_placeholder_of_their_message() -> None:
    catalog = read_catalog(SIMPLIFIED)
    for message in catalog:
        if not message.id:
            continue
        for msgid, msgstr in zip(_forms(message.id), _forms(message.string), strict=False):
            for marker in ("%(", "{"):
                wanted = sorted(
                    part.split(")")[0].split("}")[0] for part in msgid.split(marker)[1:]
                )
                found = sorted(
                    part.split(")")[0].split("}")[0] for part in msgstr.split(marker)[1:]
                )
                if marker == "%(" or "{" in msgid:
                    assert set(found) <= set(wanted) and (found or not wanted), (msgid, msgstr)


def test_every_domain_template_reads_back_its_own_parts() -> None:
    for template in TEMPLATES:
        filled = template.replace("{", "<").replace("}", ">")
        assert message_parts(filled) is not None, template


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", SIMPLIFIED),
        ("zh-TW", TRADITIONAL),
        ("zh-Hant-HK,en;q=0.5", TRADITIONAL),
        ("en-GB,zh-CN;q=0.3", ENGLISH),
        ("fr-FR,zh;q=0.5", SIMPLIFIED),
        ("fr-FR,de", None),
        ("", None),
        ("en;q=0, zh-HK;q=0.4", TRADITIONAL),
    ],
)
def test_accept_language_picks_our_nearest_locale(header: str, locale: str | None) -> None:
    assert negotiate(header) == locale


def test_saved_choice_beats_the_browser_and_cantonese_asks_for_traditional() -> None:
    assert choose_locale(saved="en", cookie="zh_Hans", accept_language="zh-CN") == ENGLISH
    assert choose_locale(saved=None, cookie="zh_Hant", accept_language="en") == TRADITIONAL
    assert choose_locale(saved=None, cookie=None, accept_language=None) == ENGLISH
    cantonese = {"languages": ("yue",), "language_locales": {"yue": TRADITIONAL}}
    assert choose_locale(saved=None, cookie=None, accept_language="zh", **cantonese) == TRADITIONAL
    # A browser that names its script or region is taken at its word.
    assert (
        choose_locale(saved=None, cookie=None, accept_language="zh-CN", **cantonese) == SIMPLIFIED
    )


def test_language_names_are_in_the_readers_language() -> None:
    use_locale(SIMPLIFIED)
    assert [language_name(code) for code in ("yue", "cmn", "cmn-shaanxi", "hak", "en")] == [
        "粤语",
        "普通话",
        "陕西话",
        "客家话",
        "英语",
    ]
    use_locale(TRADITIONAL)
    assert language_name("yue") == "粵語"
    use_locale(ENGLISH)
    assert [language_name(code) for code in ("yue", "cmn-shaanxi", "xx-new")] == [
        "Cantonese",
        "Shaanxi",
        "xx-new",
    ]


def test_validator_problems_are_translated_at_the_edge_with_their_parts() -> None:
    [problem] = validate_transcript("we went [nosie] home", "en")
    use_locale(SIMPLIFIED)
    assert translate_message(problem.message) == "未知标记 [nosie]；你是想写 [noise] 吗？"
    assert message_parts(problem.message)[1] == {"tag": "nosie", "nearest": "noise"}
    [digit] = validate_transcript("我有3个", "cmn")
    use_locale(ENGLISH)
    assert translate_message(digit.message) == "Write numbers as spoken: write 3 as 三"


def test_the_login_page_follows_accept_language(client) -> None:
    chinese = client.get("/login", headers=ZH).text
    assert '<html lang="zh-Hans">' in chinese and "访问令牌" in chinese and "登录" in chinese
    english = client.get("/login", headers={"Accept-Language": "en-US"}).text
    assert '<html lang="en">' in english and "Access token" in english


def test_the_switch_saves_the_choice_on_the_account_and_the_browser(
    client, sqlite_database, spoken_clips, publish
) -> None:
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, token = add_person(sqlite_database, "mei")
    logged_in(client, token)
    client.get("/preferences/locale", params={"locale": "zh_Hans", "next": "/earnings"})
    # Saved on the account: a fresh browser with an English Accept-Language still reads Chinese.
    client.cookies.clear()
    logged_in(client, token)
    home = client.get("/", headers={"Accept-Language": "en"}).text
    assert "领取下一段 · 0.10 CNY" in home and "英语" in home and "今日收入" in home
    page = take_next(client, csrf_of(home))
    assert "提交并领取下一段" in page.text and "逐字写下所说的内容" in page.text


def test_a_logged_out_switch_lives_in_a_cookie_and_never_leaves_the_site(client) -> None:
    answer = client.get(
        "/preferences/locale",
        params={"locale": "zh_Hant", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"
    assert "訪問令牌" in client.get("/login").text


def test_api_details_and_problems_follow_accept_language(client, sqlite_database) -> None:
    _, token = add_person(sqlite_database, "lin")
    auth = {"Authorization": f"Bearer {token}"}
    check = client.post(
        "/api/v1/conventions/check",
        json={"text": "我哋去咗 [nosie] 3", "language": "yue"},
        headers={**auth, **ZH},
    ).json()
    assert [(p["code"], p["message"], p["params"]) for p in check["problems"]] == [
        (
            "unknown_tag",
            "未知标记 [nosie]；你是想写 [noise] 吗？",
            {"tag": "nosie", "nearest": "noise"},
        ),
        ("digit", "数字按读音写：3 写成 三", {"number": "3", "spoken": "三"}),
    ]
    missing = client.post(
        "/api/v1/assignments/nope/renew", headers={**auth, "Accept-Language": "zh-CN"}
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "你没有任务 nope；请先领取片段。"
    english = client.post("/api/v1/assignments/nope/renew", headers=auth)
    assert english.json()["detail"] == "You hold no assignment nope; claim a clip first."


def test_error_pages_speak_the_readers_language(client, sqlite_database) -> None:
    _, token = add_person(sqlite_database, "wu")
    logged_in(client, token)
    client.get("/preferences/locale", params={"locale": "zh_Hans"})
    page = client.get("/work/not-mine")
    assert page.status_code == 404
    assert "未找到" in page.text and "你没有领取这个片段" in page.text and "返回首页" in page.text
