from __future__ import annotations

import pytest
from pydantic import ValidationError

from config import Settings


def test_a_caldav_calendar_needs_a_url_template_with_no_login_in_it():
    settings = Settings(calendar="caldav", caldav_url="https://dav.example.com/{rep_id}/calendar/",
                        caldav_username="warm-transfer", caldav_password="pw")
    assert settings.caldav_password.get_secret_value() == "pw" and "pw" not in repr(settings)
    assert Settings(calendar="caldav", caldav_url="https://dav.example.com/team/calendar/").caldav_url
    for url, problem in [(None, "needs WT_CALDAV_URL"), ("https://dav.example.com/{user}/", "no other placeholder"),
                         ("https://dav.example.com/{rep_id/", "placeholder is malformed"),
                         ("ftp://dav.example.com/{rep_id}/", "http"),
                         ("https://me:pw@dav.example.com/{rep_id}/", "not in the URL")]:
        with pytest.raises(ValidationError, match=problem):
            Settings(calendar="caldav", caldav_url=url)
