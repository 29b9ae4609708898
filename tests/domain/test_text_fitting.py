import pytest

from statusboard.domain.text_fitting import (
    BLUESKY_LIMIT,
    X_LIMIT,
    bluesky_length,
    fit,
    graphemes,
    mastodon_length,
    x_length,
)

LINK = "https://status.example.com/incidents/abcdefghjkmn"


def test_x_counts_urls_and_bare_domains_as_23_and_cjk_and_emoji_as_2():
    assert x_length("a" * 10) == 10
    assert x_length(LINK) == 23
    assert x_length("see example.com now") == len("see  now") + 23
    assert x_length("障害") == 4
    assert x_length("😀") == 2
    assert x_length("👨‍👩‍👧") == 2


def test_mastodon_counts_every_url_as_23():
    assert mastodon_length(f"down {LINK}") == 5 + 23


def test_bluesky_counts_graphemes():
    assert bluesky_length("e\u0301") == 1
    assert bluesky_length("👍🏽") == 1
    assert bluesky_length("🇩🇪🇫🇷") == 2
    assert bluesky_length("👨‍👩‍👧") == 1
    assert graphemes("ab") == ["a", "b"]


def test_text_at_the_exact_limit_is_left_alone():
    text = "x" * X_LIMIT
    fitted = fit(text, limit=X_LIMIT, length=x_length)
    assert fitted.text == text and not fitted.trimmed and fitted.length == X_LIMIT


def test_one_over_the_limit_is_trimmed_at_a_word_boundary_with_an_ellipsis():
    text = "word " * 56 + "end"  # 283 characters
    fitted = fit(text, limit=X_LIMIT, length=x_length)
    assert fitted.trimmed and fitted.length <= X_LIMIT
    assert fitted.text.endswith("word…")


@pytest.mark.parametrize(
    "limit,length", [(X_LIMIT, x_length), (500, mastodon_length), (BLUESKY_LIMIT, bluesky_length)]
)
def test_the_link_is_kept_whole_when_the_body_is_trimmed(limit, length):
    fitted = fit("Elevated errors on the API. " * 40, limit=limit, length=length, link=LINK)
    assert fitted.text.endswith("\n\n" + LINK) and fitted.length <= limit
    assert "…" in fitted.text


def test_cjk_text_is_trimmed_by_weight_on_x_and_by_grapheme_on_bluesky():
    text = "東京リージョンで障害が発生しています" * 20
    on_x = fit(text, limit=X_LIMIT, length=x_length)
    assert on_x.length <= X_LIMIT and len(on_x.text) <= 141
    on_bluesky = fit(text, limit=BLUESKY_LIMIT, length=bluesky_length)
    assert on_bluesky.length == BLUESKY_LIMIT


def test_emoji_are_never_cut_in_half():
    text = "👨‍👩‍👧" * 400
    fitted = fit(text, limit=BLUESKY_LIMIT, length=bluesky_length)
    assert fitted.length <= BLUESKY_LIMIT
    body = fitted.text.removesuffix("…")
    assert set(graphemes(body)) == {"👨‍👩‍👧"}


def test_a_cut_ends_where_a_sentence_ends_and_adds_the_link_even_when_links_are_off():
    body = (
        "API errors — Investigating\n"
        + "Requests to the API fail. " * 6
        + ("We are rolling back the release that caused it and will add more servers later today.")
        * 3
    )
    fitted = fit(body, limit=X_LIMIT, length=x_length, link_when_cut=LINK)
    assert fitted.trimmed and fitted.length <= X_LIMIT
    assert fitted.text.endswith("Requests to the API fail. …\n\n" + LINK)


def test_a_body_that_fits_gets_no_link_when_links_are_off():
    fitted = fit(
        "API errors — Investigating\nFixed.", limit=X_LIMIT, length=x_length, link_when_cut=LINK
    )
    assert fitted.text == "API errors — Investigating\nFixed." and not fitted.trimmed


def test_when_no_sentence_of_the_body_fits_the_headline_and_the_link_are_posted():
    body = "API errors — Investigating\n" + "word " * 300 + "end."
    fitted = fit(body, limit=X_LIMIT, length=x_length, link_when_cut=LINK)
    assert fitted.text == "API errors — Investigating…\n\n" + LINK


def test_a_clause_boundary_is_used_only_when_no_sentence_fits():
    body = "The API fails for every customer in every region, " + "and more " * 40
    fitted = fit(body, limit=X_LIMIT, length=x_length, link_when_cut=LINK)
    assert fitted.text == "The API fails for every customer in every region…\n\n" + LINK


@pytest.mark.parametrize(
    "limit,length", [(X_LIMIT, x_length), (500, mastodon_length), (BLUESKY_LIMIT, bluesky_length)]
)
def test_long_bodies_are_cut_after_a_sentence_within_each_networks_limit(limit, length):
    sentences = [f"Step {n} of the recovery is done and checked by two people." for n in range(40)]
    fitted = fit(
        "Recovery — Monitoring\n" + " ".join(sentences), limit=limit, length=length, link=LINK
    )
    assert fitted.length <= limit
    kept = fitted.text.removesuffix(" …\n\n" + LINK)
    assert kept.endswith("checked by two people.")
