"""Where webhooks may go: https, no userinfo, public addresses, whatever the URL's spelling; or the allow-list."""

from __future__ import annotations

import socket
from ipaddress import ip_address

import pytest

from integrations.notify.destinations import CallbackPolicy, RefusedDestination, allow_list_entry, is_public

NOT_PUBLIC = [
    "127.0.0.1", "127.255.0.9", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1",  # CGNAT
    "169.254.169.254", "169.254.0.1", "224.0.0.1", "239.255.255.250", "255.255.255.255", "192.0.2.1", "240.0.0.1",
    "::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "ff02::1", "fec0::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::", "2002:a9fe:a9fe::", "64:ff9b::7f00:1",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:5db8:d822::"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_loopback_private_link_local_cgnat_multicast_and_metadata_are_not_public(address):
    assert not is_public(ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_global_unicast_is_public(address):
    assert is_public(ip_address(address))


# Every way a URL or the system resolver lets one write loopback, and a name that resolves to it.
LOOPBACK_SPELLINGS = ["127.1", "2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "[::1]",
                      "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:0:0:1]", "localhost"]


def refusal(policy: CallbackPolicy, url: str) -> str:
    """Why the URL is refused, by its form or by an address it reaches ("" if it is not)."""
    try:
        parsed = policy.check_url(url)
        policy.checked_addresses(parsed.host, parsed.port or 443)
    except RefusedDestination as refused:
        return str(refused)
    return ""


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_loopback_is_refused(host):
    assert refusal(CallbackPolicy(), f"https://{host}:8443/hooks")


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "localhost"])
def test_a_spelling_the_parser_accepts_is_judged_by_the_address_it_reaches(host):
    assert "not a public address" in refusal(CallbackPolicy(), f"https://{host}/")


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data", "https://[fd00:ec2::254]/",
                                 "https://10.0.0.1/", "https://100.64.1.1/", "https://0/", "https://[::]/"])
def test_metadata_private_and_unspecified_addresses_are_refused(url):
    assert "not a public address" in refusal(CallbackPolicy(), url)


@pytest.mark.parametrize(("url", "problem"), [
    ("http://bot.example.com/hooks", "must be https"),
    ("https://user:secret@bot.example.com/hooks", "user name or password"),
    ("https://user@bot.example.com/hooks", "user name or password"),
    ("ftp://bot.example.com/hooks", "https URL"),
    ("https:///hooks", "https URL"),
    ("http://127.0.0.1:9/hooks", "must be https"),  # loopback needs the allow-list, and then may be http
])
def test_the_url_must_be_https_without_userinfo(url, problem):
    with pytest.raises(RefusedDestination, match=problem):
        CallbackPolicy().check_url(url)


def test_a_name_is_judged_by_every_address_it_resolves_to(monkeypatch):
    answers = {"mixed.test": ["93.184.216.34", "10.0.0.5"], "public.test": ["93.184.216.34", "2606:4700::1111"]}
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    policy = CallbackPolicy()
    with pytest.raises(RefusedDestination, match="10.0.0.5"):  # partly private is not public
        policy.checked_addresses("mixed.test", 443)
    assert policy.checked_addresses("public.test", 443) == [ip_address("93.184.216.34"),
                                                             ip_address("2606:4700::1111")]


def test_the_allow_list_admits_networks_and_names_and_plain_http_to_them():
    policy = CallbackPolicy(["127.0.0.0/8", "::1", "Hooks.Internal."])
    assert policy.check_url("http://127.0.0.1:9000/hooks").port == 9000
    assert policy.checked_addresses("127.0.0.1", 9000) == [ip_address("127.0.0.1")]
    assert policy.checked_addresses("::ffff:127.0.0.1", 9000)  # the IPv4 address it reaches is allowed
    assert policy.checked_addresses("::1", 9000) == [ip_address("::1")]
    assert policy.check_url("http://hooks.internal/x").host == "hooks.internal"
    with pytest.raises(RefusedDestination):
        policy.checked_addresses("10.0.0.1", 443)  # only what is listed
    with pytest.raises(RefusedDestination, match="must be https"):
        policy.check_url("http://localhost:9000/")  # a name resolving into an allowed network still needs https


@pytest.mark.parametrize(("entry", "kept"), [
    ("127.0.0.0/8", "127.0.0.0/8"), ("::1", "::1/128"), ("10.1.2.3", "10.1.2.3/32"),
    (" Hooks.Example.COM. ", "hooks.example.com"),
])
def test_allow_list_entries_are_kept_in_one_form(entry, kept):
    assert allow_list_entry(entry) == kept


@pytest.mark.parametrize("entry", ["127.0.0.1/8", "10.0.0.0/33", "not a host", "a..b", "", "host/path"])
def test_a_malformed_allow_list_entry_is_refused(entry):
    with pytest.raises(ValueError):
        allow_list_entry(entry)
