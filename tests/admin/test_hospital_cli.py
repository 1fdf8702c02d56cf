"""The commands that do what the Sites, teams and Wards pages do, through the same services: `rename-site`,
`update-team`, `update-ward --team`, and the warnings about numbers that cannot get texts."""

from __future__ import annotations

from tracker.models import AuditEvent, Site, Team, Ward


def run(app, *args):
    return app.test_cli_runner().invoke(args=["tracker", *args])


def test_rename_site_keeps_the_code(app, trust, read):
    result = run(app, "rename-site", "gen", "--name", "General Hospital North")
    assert result.exit_code == 0 and "Renamed site gen." in result.output
    assert (read.one(Site).code, read.one(Site).name) == ("gen", "General Hospital North")
    assert run(app, "rename-site", "nowhere", "--name", "X").exit_code == 1


def test_update_team_changes_what_is_given_and_warns_about_its_duty_phone(app, trust, read):
    result = run(app, "update-team", "gen-ccot", "--review-minutes", "45", "--no-duty-phone")
    assert result.exit_code == 0, result.output
    assert "Updated team gen-ccot: duty phone, target to review." in result.output
    assert "no duty phone and no escalation policy, so new calls cannot alert anyone" in result.stderr
    team = read.one(Team)
    assert (team.duty_phone, team.review_target_minutes, team.ack_target_minutes) == (None, 45, 5)
    assert read.one(AuditEvent, AuditEvent.action == "team_changed").changes["fields"] == [
        "duty_phone",
        "review_target_minutes",
    ]


def test_update_team_refuses_a_landline_duty_phone_with_the_reason(app, trust, read):
    result = run(app, "update-team", "gen-ccot", "--duty-phone", "020 7946 0102")
    assert result.exit_code == 1 and "must be a mobile number, because it receives text alerts" in result.stderr
    assert read.one(Team).duty_phone == "+447400900101"


def test_update_ward_moves_a_ward_to_another_team_and_warns_about_a_landline_nurse_in_charge(app, trust, read):
    add = [
        "add-team",
        "--code",
        "gen-ccot-2",
        "--site",
        "gen",
        "--name",
        "Second",
        "--public-phone",
        "020 7946 0103",
    ]
    assert run(app, *add).exit_code == 0
    result = run(app, "update-ward", "w7", "--team", "gen-ccot-2", "--nurse-in-charge-phone", "020 7946 0300")
    assert result.exit_code == 0, result.output
    assert "Updated ward w7: team, nurse in charge's number." in result.output
    assert "cannot get texts: it is a landline" in result.stderr
    assert read.one(Ward, Ward.code == "w7").team_id == read.one(Team, Team.code == "gen-ccot-2").id


def test_add_ward_warns_about_a_landline_nurse_in_charge_but_adds_the_ward(app, trust, read):
    args = ["--name", "Ward 9", "--site", "gen", "--team", "gen-ccot", "--nurse-in-charge-phone", "020 7946 0300"]
    result = run(app, "add-ward", "--code", "w9", *args)
    assert result.exit_code == 0 and "/w/w9" in result.output and "voice calls" in result.stderr
    assert read.count(Ward, Ward.code == "w9") == 1
