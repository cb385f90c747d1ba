"""Persons for the duplicate tests, as researchers would have entered them.

Splink trains its model on the data it links, so the desk needs more than one duplicate for
the model to learn what a match looks like: 60 persons, of whom 18 are second records of
others (patronymic or day of birth missing), and "Хасуев Зелимхан" is also there as
"Khasuev Zelimkhan" in Latin script. The rest are distinct people.
"""

from __future__ import annotations

import pytest

from refugium.web.records import services
from refugium.web.records.models import Person
from tests.web.records.conftest import ws  # noqa: F401 (the unlocked documentation desk)

MEN = ["Магомед", "Рамзан", "Адам", "Ислам", "Умар", "Ахмед", "Руслан", "Аслан", "Бислан", "Ильяс"]
MEN += ["Хамзат", "Сайд", "Алихан", "Муса", "Идрис", "Шамиль", "Апти", "Беслан", "Турпал", "Ваха"]
WOMEN = ["Малика", "Зарема", "Хава", "Айшат", "Луиза", "Марьям", "Хеда", "Седа", "Зулай", "Петимат"]
WOMEN += ["Раиса", "Элина", "Мадина", "Амина", "Лейла", "Зарина", "Яха", "Асет", "Тамара", "Лиза"]
FAMILIES = ["Алиев", "Бибулатов", "Газиев", "Дудаев", "Исаев", "Мусаев", "Садулаев", "Темиров"]
FAMILIES += ["Юсупов", "Эдиев", "Цуев", "Байсаров", "Вахаев", "Гериев", "Докаев", "Ибрагимов"]
FAMILIES += ["Кадиев", "Махмудов", "Нальгиев", "Оздамиров"]
FATHERS = ["Ахмедович", "Русланович", "Умарович", "Исаевич", "Магомедович"]
PLACES = ["Грозный", "Аргун", "Шали", "Гудермес", "Урус-Мартан"]


def make_person(ws: services.Workspace, **values: object) -> Person:  # noqa: F811
    return services.save(ws, Person(), values)  # type: ignore[return-value]


def _distinct(number: int, female: bool) -> dict[str, object]:
    given = (WOMEN if female else MEN)[number]
    family = FAMILIES[(number * 3 + female) % len(FAMILIES)] + ("а" if female else "")
    patronymic = FATHERS[number % len(FATHERS)]
    if female:
        patronymic = patronymic.replace("ич", "на")
    return {
        "family_name": family,
        "given_name": given,
        "patronymic": patronymic,
        "birth_date": f"{1950 + number + 20 * female}-{1 + number % 12:02d}-{1 + number % 28:02d}",
        "birth_place": PLACES[number % len(PLACES)],
        "sex": "female" if female else "male",
    }


@pytest.fixture
def people(ws: services.Workspace) -> dict[str, Person]:  # noqa: F811
    """60 persons; ``first`` and ``second`` are the same man in two scripts, ``other`` a
    distinct woman."""
    made = {
        "first": make_person(
            ws,
            family_name="Хасуев",
            given_name="Зелимхан",
            patronymic="Ахмедович",
            birth_date="1985-03-02",
            birth_place="Аргун",
            sex="male",
        )
    }
    persons = [_distinct(n, female) for female in (False, True) for n in range(20)]
    for number, values in enumerate(persons):
        person = make_person(ws, **values)
        if number == 30:
            made["other"] = person
    for number, values in enumerate(persons[:9] + persons[20:29]):
        again = dict(values)
        if number % 2:
            again["patronymic"] = ""
        if number % 3 == 0:
            again["birth_date"] = str(again["birth_date"])[:4]
        make_person(ws, **again)
    made["second"] = make_person(
        ws,
        family_name="Khasuev",
        given_name="Zelimkhan",
        birth_date="1985-03",
        birth_place="Argun",
        sex="male",
    )
    return made
