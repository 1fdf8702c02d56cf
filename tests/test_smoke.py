def test_the_form_opens_for_a_ward(family):
    hidden = family.open()
    assert set(hidden) == {"csrf_token", "submission_id"}


def test_a_submission_redirects_to_its_confirmation(family, client):
    response = family.submit()
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your reference is" in page
