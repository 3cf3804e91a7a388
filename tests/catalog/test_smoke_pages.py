import pytest


@pytest.mark.django_db
def test_home_lists_starter_tools(client, starter_catalog):
    response = client.get("/")
    assert response.status_code == 200
    assert "Claude 4 Sonnet" in response.content.decode()
