"""A fixed-seed synthetic record-linkage test set: the truth is known, so scores can be counted.

Everything here is synthetic. Persons are random combinations of common given names, family
names and places of the North Caucasus (Chechen and Ingush, Dagestani, Russian); no row
describes a real person.

What it models: persons documented by several organisations, each writing names its own way.
An NGO list in Cyrillic with separate name columns and clerks' typos; press reports in Latin
under whatever transliteration the journalist used (Wikipedia, BGN/PCGN, Moscow metro,
Telegram, GOST 7.79, or German-style "Chasujew"); a UN list in passport (ICAO) spelling with
the family name in capitals; a hotline where callers give short forms ("Зелим", "Мага"),
initials ("Зелим Х.") and an age instead of a birth date. Each person appears in each source
with some probability, and a few are entered twice in one source, since linkage also
deduplicates within a source.

Why it is hard, on purpose: family names follow a Zipf-like law, as clans do, so a shared
family name is weak evidence unless weighted by its frequency; brothers share family name,
patronymic and place and differ only in given name and birth year; a son's patronymic is his
father's given name; and about 3% of persons share given and family name with an unrelated
person (namesakes) and differ only in birth date and place. A model that merges on a folded
name alone merges these hard negatives; one that compares raw strings misses the spellings.

How the scores are counted: over unordered pairs of records. A predicted cluster of n records
claims C(n, 2) pairs, a true person with n records has C(n, 2) pairs, and the pairs both
agree on are the sum of C(n, 2) over the cells of the cluster-by-person contingency table.
Counting cells instead of enumerating pairs keeps the cost linear in the number of records,
so a million records are scored in seconds.

Birth dates are written ISO-style, possibly partial: "1985-03-12", "1985-03" or "1985".
"""

from __future__ import annotations

import csv
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import iuliia  # type: ignore[import-untyped]  # iuliia 0.13 ships no type information

__all__ = ["COLUMNS", "TestSet", "generate", "pairwise_scores"]

COLUMNS = (
    "id",
    "full_name",
    "given_name",
    "patronymic",
    "family_name",
    "birth_date",
    "place",
    "gender",
)

Key = tuple[str, str]
"""(source name, row id): one record."""

# --- Name pools -------------------------------------------------------------------------------
# Common names only, listed roughly from most to least common within each group, because the
# draw below is skewed towards the head of each list.


def _names(text: str) -> tuple[str, ...]:
    """A pool written as words separated by spaces and line breaks, in order."""
    return tuple(text.split())


_MALE: dict[str, tuple[str, ...]] = {
    "vainakh": _names(
        """Магомед Ахмед Ислам Рамзан Зелимхан Хамзат Адам Аслан Руслан Рустам Ибрагим Хусейн
        Хасан Умар Усман Муса Иса Мовсар Ӏалавди Хож-Ахмед Абубакар Ваха Висита Докка Джабраил
        Заур Ильяс Лечи Мансур Майрбек Муслим Саид Салман Султан Тимур Турпал Хасмагомед Хизир
        Шарпудди Эльдар Юсуп Якуб Арби Апти Асланбек Бекхан Сулейман Саламбек Сайпуди Хаважи
        Хасбулат Юнус Ризван Сайд-Эмин Абдул Ӏабдулла Беслан Бислан Вахид Дени Алихан Шамхан
        Магомед-Хаджи Мурад Али Шамиль Аюб Зайнди Бувайсар Идрис Казбек Ширвани Умар-Али
        Баудин"""
    ),
    "dagestani": _names(
        """Магомед Гаджи Шамиль Ахмед Абдулла Гасан Гусейн Расул Магомедрасул Хабиб Камиль
        Курбан Рамазан Арсен Абакар Алибек Гамзат Нурмагомед Исмаил Магомедали Хайбула Тагир
        Загир Мухтар Арслан Джамал Рашид Халид Абдулмалик Ибрагим Саид Мурад Ислам Эльдар
        Заур Султанахмед Ахмедхан Гаджимурад Омарасхаб Мирза"""
    ),
    "russian": _names(
        """Александр Сергей Андрей Алексей Дмитрий Владимир Николай Михаил Евгений Игорь Юрий
        Виктор Павел Олег Иван Пётр Фёдор Семён Артём Максим Денис Роман Антон Вадим Василий
        Геннадий Константин Илья Никита Борис Григорий Анатолий Валерий Станислав Егор"""
    ),
}

_FEMALE: dict[str, tuple[str, ...]] = {
    "vainakh": _names(
        """Марьям Хеда Зарема Айшат Малика Мадина Луиза Петимат Зулай Седа Хава Марха Лейла
        Элина Амина Фатима Макка Зайнап Зура Раиса Тамара Хадижат Асет Камила Милана Таиса Яха
        Эльза Жаннет Роза Бирлант Малкан Зина Зарган Ровзан"""
    ),
    "dagestani": _names(
        """Патимат Написат Муслимат Салихат Айшат Хадижат Загидат Умукусум Зумруд Разият Барият
        Саида Аминат Маржанат Зайнаб Джамиля Мадина Султанат Карина Гюльнара"""
    ),
    "russian": _names(
        """Елена Ольга Татьяна Наталья Ирина Светлана Екатерина Анна Мария Юлия Людмила Галина
        Валентина Надежда Любовь Нина Вера Алёна Ксения Дарья Оксана Марина Лариса Евгения
        Виктория"""
    ),
}

_VAINAKH_STEMS = _names(
    """Магомад Гучиг Дуд Эльмурз Мус Ис Хасан Умар Байсар Бисулт Гайр Дад Вах Абдурахман Ахмад
    Алх Арсанук Басх Бетерб Гелисх Джабраил Закр Ибрагим Идрис Исмаил Кадыр Мальсаг Мурз Муцур
    Садул Сайдул Салам Сулейман Тепс Умхан Эдилсулт Юсуп Юнус Межид Зубайр Герихан
    Абдулкерим Бакар Солтамурад"""
)
"""Consonant-final stems; each takes -ов, -аев and -иев (Гучигов, Дудаев, Мальсагиев)."""

_VAINAKH_VOWEL_STEMS = _names(
    """Хасу Евло Косто Хамхо Цечо Оздо Барахо Баса Хаджи Арсамирзо Мамаду Ферзаули Гелагу Ахто
    Цуро Чабу Батука Умаро"""
)
"""Vowel-final stems; each takes -ев (Хасуев, Евлоев)."""

_DAGESTANI_STEMS = _names(
    """Магомед Гаджи Али Абдулла Рамазан Курбан Гасан Гусейн Исмаил Меджид Нурмагомед Шамил
    Абакар Алибек Гамзат Расул Хабиб Тагир Муса Ахмед Иса Сулейман Халил Эмир Керим Айдемир
    Юсуп Умахан Магомедрасул Шихсаид Пирмагомед Кади Гитинмагомед Загир Джамалутдин Омар
    Осман Мирзо Газимагомед Ибрагимхалил Чупан Абдулкадыр Арсланбек Бутта Дибир Мутали
    Камалутдин Саадул Гаджимурад Хизри Шапи Магомедали Абдурашид Ханмагомед Лабазан
    Кебед Ата Гайдар Исрапил Ибрагим Магомедсалих Абдулвагаб Гарун Дауд Казиахмед Алискер
    Байрам Ага Мамед Велихан Рустам Салман Муртузали Гамид Идрис Нур Шуаиб Саидахмед
    Гаджимагомед Хайбулла Абдулмуслим"""
)
"""Dagestani stems; -ев after a vowel or sibilant, -ов otherwise (Гаджиев, Магомедов)."""

_RUSSIAN_FAMILY = _names(
    """Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов
    Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев
    Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв
    Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов
    Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов
    Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров"""
)


def _attach(stem: str, ending: str) -> str:
    """Join stem and ending as Russian spelling does: -ов becomes -ев after a sibilant or vowel."""
    if ending == "ов" and stem[-1] in "жшчщцаеиоуыэюя":
        ending = "ев"
    return stem + ending


def _family_pool() -> dict[str, tuple[str, ...]]:
    """Masculine family names per group (~300 in all); feminine forms add -а."""
    vainakh = [_attach(s, e) for s in _VAINAKH_STEMS for e in ("ов", "аев", "иев")]
    vainakh += [stem + "ев" for stem in _VAINAKH_VOWEL_STEMS]
    dagestani = [_attach(stem, "ов") for stem in _DAGESTANI_STEMS]
    return {
        "vainakh": tuple(dict.fromkeys(vainakh)),
        "dagestani": tuple(dict.fromkeys(dagestani)),
        "russian": _RUSSIAN_FAMILY,
    }


_FAMILY = _family_pool()

_CHECHNYA_INGUSHETIA = _names(
    """Грозный Аргун Шали Гудермес Урус-Мартан Ачхой-Мартан Курчалой Ведено Шатой Итум-Кали Наур
    Шелковская Знаменское Серноводское Самашки Бамут Старые-Атаги Новые-Атаги Чечен-Аул
    Алхан-Юрт Алхан-Кала Цоцин-Юрт Бачи-Юрт Ойсхара Гойты Мескер-Юрт Элистанжи Назрань Магас
    Малгобек Карабулак Сунжа Сагопши Экажево Плиево"""
)
_DAGESTAN = _names(
    """Махачкала Хасавюрт Буйнакск Дербент Кизляр Каспийск Избербаш Кизилюрт Гимры Ботлих Гуниб
    Цумада Леваши Унцукуль Карабудахкент"""
)
_ELSEWHERE = _names(
    """Моздок Владикавказ Нальчик Ставрополь Пятигорск Будённовск Кисловодск Черкесск
    Грозный Кизляр Наур Шелковская Махачкала"""
)
_PLACES: dict[str, tuple[str, ...]] = {
    "vainakh": _CHECHNYA_INGUSHETIA,
    "dagestani": _DAGESTAN,
    "russian": _ELSEWHERE,
}
_ALL_PLACES = tuple(dict.fromkeys(_CHECHNYA_INGUSHETIA + _DAGESTAN + _ELSEWHERE))

_GROUPS = ("vainakh", "dagestani", "russian")
_GROUP_WEIGHTS = (0.6, 0.22, 0.18)

_NAME_FORMS: dict[str, tuple[str, ...]] = {
    "Магомед": ("Мохьмад", "Мухаммад", "Магомет"),
    "Ахмед": ("Ахмад",),
    "Хусейн": ("Хуьсейн", "Хусайн"),
    "Ибрагим": ("Ибрахим",),
    "Юсуп": ("Юсуф",),
    "Умар": ("Омар",),
    "Сулейман": ("Сулайман",),
}
"""Other forms of one name (not spellings): a clerk in another place writes another form."""

_SHORT_FORMS: dict[str, str] = {
    "Зелимхан": "Зелим", "Магомед": "Мага", "Александр": "Саша", "Ибрагим": "Ибра",
    "Хамзат": "Хамзат", "Абубакар": "Абу", "Дмитрий": "Дима", "Сергей": "Серёжа",
    "Владимир": "Вова", "Николай": "Коля", "Михаил": "Миша", "Алексей": "Лёша",
    "Евгений": "Женя", "Андрей": "Андрюша", "Гаджимурад": "Гаджи", "Магомедрасул": "Расул",
    "Айшат": "Айша", "Екатерина": "Катя", "Татьяна": "Таня", "Наталья": "Наташа",
    "Елена": "Лена", "Ольга": "Оля", "Светлана": "Света", "Хож-Ахмед": "Хожа",
    "Асланбек": "Аслан", "Нурмагомед": "Нурик", "Магомедали": "Али",
}  # fmt: skip
"""Short forms and diminutives a caller uses for a relative."""

_PATRONYMIC_EXCEPTIONS: dict[str, tuple[str, str]] = {
    "Илья": ("Ильич", "Ильинична"),
    "Никита": ("Никитич", "Никитична"),
    "Пётр": ("Петрович", "Петровна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
}


def _patronymic(father: str, sex: str) -> str:
    """Russian rules: -ович/-овна after a hard consonant, -евич/-евна after й, ь or a vowel."""
    if father in _PATRONYMIC_EXCEPTIONS:
        return _PATRONYMIC_EXCEPTIONS[father][sex == "f"]
    if father.endswith("ий"):
        stem, soft = father[:-2] + "ь", True
    elif father[-1] in "йь":
        stem, soft = father[:-1], True
    else:
        stem, soft = father, father[-1] in "аяиеоуэжшчщц"
    return stem + ("ев" if soft else "ов") + ("на" if sex == "f" else "ич")


def _family_form(family: str, sex: str) -> str:
    return family + "а" if sex == "f" else family


# --- Persons ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Person:
    number: int
    group: str
    sex: str
    given: str
    patronymic: str
    family: str
    birth: date
    place: str


def _cumulative_zipf(size: int, offset: float) -> tuple[float, ...]:
    """Cumulative weights 1/(rank + offset): a heavy head, as with clan names and Магомед."""
    return tuple(itertools.accumulate(1.0 / (rank + offset) for rank in range(1, size + 1)))


_FAMILY_CUM = {g: _cumulative_zipf(len(_FAMILY[g]), 3) for g in _GROUPS}
_MALE_CUM = {g: _cumulative_zipf(len(_MALE[g]), 4) for g in _GROUPS}
_FEMALE_CUM = {g: _cumulative_zipf(len(_FEMALE[g]), 4) for g in _GROUPS}


def _zipf(rng: random.Random, pool: tuple[str, ...], cum: tuple[float, ...]) -> str:
    return rng.choices(pool, cum_weights=cum)[0]


def _given(rng: random.Random, group: str, sex: str) -> str:
    if sex == "m":
        return _zipf(rng, _MALE[group], _MALE_CUM[group])
    return _zipf(rng, _FEMALE[group], _FEMALE_CUM[group])


def _birth(rng: random.Random, year: int) -> date:
    return date.fromordinal(date(year, 1, 1).toordinal() + rng.randrange(365))


def _place(rng: random.Random, group: str) -> str:
    """Mostly a place of the person's region; some families moved."""
    return rng.choice(_PLACES[group] if rng.random() < 0.9 else _ALL_PLACES)


def _household(rng: random.Random, first_number: int) -> list[_Person]:
    """Siblings, sometimes with their father: the hard negatives that share most fields.

    Brothers share family name, patronymic and place and are born 1-10 years apart; a
    father's given name is his son's patronymic.
    """
    group = rng.choices(_GROUPS, weights=_GROUP_WEIGHTS)[0]
    family = _zipf(rng, _FAMILY[group], _FAMILY_CUM[group])
    place = _place(rng, group)
    father = _given(rng, group, "m")
    people: list[_Person] = []
    if rng.random() < 0.3:
        father_year = rng.randint(1960, 1975)
        grandfather = _given(rng, group, "m")
        people.append(
            _Person(
                first_number, group, "m", father, _patronymic(grandfather, "m"), family,
                _birth(rng, father_year), place,
            )
        )  # fmt: skip
        year = father_year + rng.randint(20, 29)
    else:
        year = rng.randint(1960, 2000)
    used = {father}
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        if year > 2004:
            break
        sex = "m" if rng.random() < 0.75 else "f"
        given = _given(rng, group, sex)
        while given in used:
            given = _given(rng, group, sex)
        used.add(given)
        people.append(
            _Person(
                first_number + len(people), group, sex, given, _patronymic(father, sex),
                _family_form(family, sex), _birth(rng, year), place,
            )
        )  # fmt: skip
        year += rng.randint(1, 10)
    return people


def _namesake(rng: random.Random, people: list[_Person], number: int) -> _Person:
    """An unrelated person with the same given and family name: born elsewhere, another day."""
    model = rng.choice(people)
    if rng.random() < 0.5:
        patronymic = model.patronymic
    else:
        patronymic = _patronymic(_given(rng, model.group, "m"), model.sex)
    year = rng.choice([y for y in range(1960, 2005) if y != model.birth.year])
    place = rng.choice([p for p in _PLACES[model.group] if p != model.place])
    return _Person(
        number, model.group, model.sex, model.given, patronymic, model.family,
        _birth(rng, year), place,
    )  # fmt: skip


def _people(rng: random.Random, count: int) -> list[_Person]:
    """Households until ~97% of the count, then ~3% namesakes of persons already drawn."""
    namesakes = round(count * 0.03)
    people: list[_Person] = []
    while len(people) < count - namesakes:
        people.extend(_household(rng, len(people)))
    del people[count - namesakes :]
    while len(people) < count:
        people.append(_namesake(rng, people, len(people)))
    return people


# --- Spelling -----------------------------------------------------------------------------------

_GERMAN = {
    cyrillic: "" if latin == "_" else latin
    for cyrillic, latin in zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        _names(
            "a b w g d e jo sch s i j k l m n o p r s t u f ch z tsch sch schtsch _ y _ e ju ja"
        ),
        strict=True,
    )
}
"""German press spelling: Chasujew, Selimchan, Urus-Martan ("_": a sign left out)."""


@cache
def _latin(word: str, schema: str) -> str:
    """One Cyrillic word in Latin; cached, since the same names recur a million times.

    The palochka has no Latin letter and writers drop it; ё is written е except on Wikipedia.
    """
    plain = word.replace("Ӏ", "").replace("ӏ", "")
    if schema != "WIKIPEDIA":
        plain = plain.replace("ё", "е").replace("Ё", "Е")
    if schema == "GERMAN":
        latin = "".join(_GERMAN.get(ch, ch) for ch in plain.lower())
        latin = "-".join(part.capitalize() for part in latin.split("-"))
    else:
        latin = getattr(iuliia, schema).translate(plain)
    return latin[:1].upper() + latin[1:]


_CONFUSABLE = {
    "а": "о", "о": "а", "е": "и", "и": "е", "ы": "и", "э": "е", "с": "з", "з": "с", "т": "д",
    "д": "т", "б": "п", "п": "б", "г": "к", "к": "г", "в": "ф", "ш": "щ", "ж": "ш", "у": "ю",
}  # fmt: skip
"""Letters a clerk mishears or mistypes for each other."""
_LETTERS = "абвгдежзиклмнопрстуфхцчшы"


def _typo(word: str, rng: random.Random) -> str:
    """One letter after the first deleted or replaced, as in a hurried transcription."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word))
    if not word[i].isalpha():
        return word
    if rng.random() < 0.4:
        return word[:i] + word[i + 1 :]
    replacement = _CONFUSABLE.get(word[i], rng.choice(_LETTERS))
    return word[:i] + replacement + word[i + 1 :]


_PALOCHKA_TYPED = ("Ӏ", "Ӏ", "I", "l", "1", "")
"""The palochka is missing from most keyboards: I, l, 1 or nothing stand in for it."""


def _cyrillic(word: str, rng: random.Random, typo: float) -> str:
    """A Cyrillic word as a clerk types it: palochka stand-ins, ё as е, hyphens, typos."""
    if "Ӏ" in word:
        word = word.replace("Ӏ", rng.choice(_PALOCHKA_TYPED))
    if "ё" in word and rng.random() < 0.7:
        word = word.replace("ё", "е")
    if "-" in word and rng.random() < 0.2:
        head, tail = word.split("-", 1)
        word = head + tail.lower()
    if rng.random() < typo:
        word = _typo(word, rng)
    return word[:1].upper() + word[1:]


def _name_form(given: str, rng: random.Random, probability: float) -> str:
    forms = _NAME_FORMS.get(given)
    if forms and rng.random() < probability:
        return rng.choice(forms)
    return given


def _initial(word: str, schema: str | None) -> str:
    first = word.lstrip("Ӏ")[:1].upper()
    return (_latin(first, schema) if schema else first) + "."


# --- Dates and other fields -------------------------------------------------------------------


def _date(birth: date, rng: random.Random, full: float, month: float, year: float) -> str:
    """Full date, year and month, year only, or blank, with the given probabilities."""
    draw = rng.random()
    if draw < full:
        return birth.isoformat()
    if draw < full + month:
        return birth.isoformat()[:7]
    if draw < full + month + year:
        return str(birth.year)
    return ""


def _gender(sex: str, rng: random.Random, blank: float, styles: tuple[str, ...]) -> str:
    """Gender as a source writes it: one of its styles, or blank."""
    if rng.random() < blank:
        return ""
    style = rng.choice(styles)
    return {
        "word": ("male", "female"),
        "letter": ("m", "f"),
        "russian": ("М", "Ж"),
    }[style][sex == "f"]


def _maybe(value: str, rng: random.Random, blank: float) -> str:
    return "" if rng.random() < blank else value


def _row(**fields: str) -> dict[str, str]:
    return {column: fields.get(column, "") for column in COLUMNS}


# --- Source styles -----------------------------------------------------------------------------


def _ngo_row(p: _Person, rng: random.Random) -> dict[str, str]:
    """Cyrillic columns typed by a clerk: typos, palochka stand-ins, mostly full dates."""
    return _row(
        given_name=_cyrillic(p.given, rng, 0.03),
        patronymic=_maybe(_cyrillic(p.patronymic, rng, 0.02), rng, 0.1),
        family_name=_cyrillic(p.family, rng, 0.03),
        birth_date=_date(p.birth, rng, full=0.8, month=0.0, year=0.15),
        place=_maybe(_cyrillic(p.place, rng, 0.01), rng, 0.1),
        gender=_gender(p.sex, rng, 0.15, ("russian",)),
    )


_PRESS_SCHEMAS = ("WIKIPEDIA", "BGN_PCGN", "MOSMETRO", "TELEGRAM", "GOST_779", "GERMAN")
_PRESS_WEIGHTS = (30, 15, 15, 15, 5, 7)


def _press_row(p: _Person, rng: random.Random) -> dict[str, str]:
    """One Latin full name under the journalist's transliteration; dates often missing."""
    schema = rng.choices(_PRESS_SCHEMAS, weights=_PRESS_WEIGHTS)[0]
    given = _cyrillic(_name_form(p.given, rng, 0.1), rng, 0.01)
    words = [given, p.patronymic, p.family] if rng.random() < 0.2 else [given, p.family]
    return _row(
        full_name=" ".join(_latin(word, schema) for word in words),
        birth_date=_date(p.birth, rng, full=0.3, month=0.0, year=0.35),
        place=_maybe(_latin(p.place, schema), rng, 0.2),
        gender=_gender(p.sex, rng, 0.85, ("word",)),
    )


def _un_row(p: _Person, rng: random.Random) -> dict[str, str]:
    """Passport spelling (ICAO), "FAMILY Given [Patronymic]", dates full or year and month."""
    words = [_latin(p.family, "ICAO_DOC_9303").upper(), _latin(p.given, "ICAO_DOC_9303")]
    if rng.random() < 0.5:
        words.append(_latin(p.patronymic, "ICAO_DOC_9303"))
    return _row(
        full_name=" ".join(words),
        birth_date=_date(p.birth, rng, full=0.75, month=0.25, year=0.0),
        place=_maybe(_latin(p.place, "ICAO_DOC_9303"), rng, 0.2),
        gender=_gender(p.sex, rng, 0.1, ("letter",)),
    )


_HOTLINE_SCHEMAS = ("TELEGRAM", "WIKIPEDIA", "BGN_PCGN")
_HOTLINE_WEIGHTS = (60, 25, 15)


def _hotline_birth(birth: date, rng: random.Random) -> str:
    """Often blank or a year: a caller's "he is 37" gives a year one off when the birthday is
    still to come."""
    draw = rng.random()
    if draw < 0.3:
        return ""
    if draw < 0.75:
        if rng.random() < 0.3:
            return str(birth.year + rng.choice((-1, 1)))
        return str(birth.year)
    return birth.isoformat()


def _hotline_row(p: _Person, rng: random.Random) -> dict[str, str]:
    """Callers' words: short forms, initials, Cyrillic or Latin, few full dates."""
    schema = rng.choices(_HOTLINE_SCHEMAS, weights=_HOTLINE_WEIGHTS)[0]
    latin = rng.random() < 0.35

    def spell(word: str) -> str:
        typed = _cyrillic(word, rng, 0.04)
        return _latin(typed, schema) if latin else typed

    given_word = _SHORT_FORMS.get(p.given, p.given) if rng.random() < 0.3 else p.given
    given = spell(_name_form(given_word, rng, 0.1))
    family = spell(p.family)
    draw = rng.random()
    if draw < 0.06:
        family = _initial(p.family, schema if latin else None)
    elif draw < 0.09:
        given = _initial(p.given, schema if latin else None)
    place = _maybe(spell(p.place), rng, 0.2)
    gender = _gender(p.sex, rng, 0.65, ("word", "letter", "russian"))
    birth_date = _hotline_birth(p.birth, rng)
    if rng.random() < 0.4:
        words = (family, given) if rng.random() < 0.5 else (given, family)
        return _row(full_name=" ".join(words), birth_date=birth_date, place=place, gender=gender)
    patronymic = spell(p.patronymic) if rng.random() < 0.25 else ""
    return _row(
        given_name=given, patronymic=patronymic, family_name=family,
        birth_date=birth_date, place=place, gender=gender,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Style:
    prefix: str
    presence: float
    """Probability that a person appears in the source at all."""
    render: Callable[[_Person, random.Random], dict[str, str]]


_STYLES: dict[str, _Style] = {
    "ngo_list": _Style("NGO", 0.85, _ngo_row),
    "press": _Style("PRESS", 0.75, _press_row),
    "un_list": _Style("UN", 0.8, _un_row),
    "hotline": _Style("HL", 0.85, _hotline_row),
}
_DUPLICATE_SHARE = 0.02
"""Share of a source's rows that enter a person a second time, with fresh variation."""


def _source_styles(count: int, rng: random.Random) -> dict[str, _Style]:
    """The four styles, then extra sources reusing them in turn with their own presence."""
    styles = dict(itertools.islice(_STYLES.items(), count))
    base = list(_STYLES.values())
    for index in range(len(styles), count):
        style = base[index % len(base)]
        presence = round(rng.uniform(0.7, 0.85), 3)
        styles[f"source{index + 1}"] = _Style(f"S{index + 1}", presence, style.render)
    return styles


def _source_rows(
    name: str, style: _Style, people: list[_Person], rng: random.Random
) -> tuple[list[dict[str, str]], dict[Key, int]]:
    """Rows of one source in shuffled order, with ids numbered in that order."""
    present = [p for p in people if rng.random() < style.presence]
    twice = rng.sample(present, round(len(present) * _DUPLICATE_SHARE))
    entries = [(p, style.render(p, rng)) for p in present + twice]
    rng.shuffle(entries)
    truth: dict[Key, int] = {}
    rows = []
    for index, (person, row) in enumerate(entries, start=1):
        row["id"] = f"{style.prefix}-{index:05d}"
        truth[(name, row["id"])] = person.number
        rows.append(row)
    return rows, truth


# --- Public API ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestSet:
    """Rows per source and the true person behind each row."""

    __test__ = False  # not a pytest test class, despite the name

    sources: dict[str, list[dict[str, str]]]
    """Source name → rows; every row has every key of ``COLUMNS`` (blank when unknown)."""
    truth: dict[tuple[str, str], int]
    """(source name, row id) → true person number."""

    def true_pairs(self) -> set[frozenset[tuple[str, str]]]:
        """Every unordered pair of records of one person; enumerates, so for small sets."""
        by_person: dict[int, list[Key]] = defaultdict(list)
        for key, person in self.truth.items():
            by_person[person].append(key)
        return {
            frozenset(pair)
            for keys in by_person.values()
            for pair in itertools.combinations(keys, 2)
        }

    def write_csvs(self, folder: Path) -> list[Path]:
        """One UTF-8 CSV per source, named after it, header ``COLUMNS``; paths in source order."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, rows in self.sources.items():
            path = folder / f"{name}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(rows)
            paths.append(path)
        return paths


def generate(persons: int = 3000, seed: int = 7, sources: int = 4) -> TestSet:
    """The test set for (persons, seed, sources); the same arguments give the same rows.

    Each source draws from its own ``random.Random`` seeded from the main one, so the rows of
    the first sources do not change when more sources are asked for.
    """
    if persons < 1 or sources < 1:
        raise ValueError("persons and sources must be positive")
    rng = random.Random(seed)
    people = _people(rng, persons)
    source_seeds = [rng.getrandbits(64) for _ in range(sources)]
    styles = _source_styles(sources, random.Random(rng.getrandbits(64)))
    rows: dict[str, list[dict[str, str]]] = {}
    truth: dict[Key, int] = {}
    for (name, style), source_seed in zip(styles.items(), source_seeds, strict=True):
        rows[name], source_truth = _source_rows(name, style, people, random.Random(source_seed))
        truth.update(source_truth)
    return TestSet(sources=rows, truth=truth)


def _pairs(sizes: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def pairwise_scores(
    predicted_clusters: dict[tuple[str, str], object], truth: dict[tuple[str, str], int]
) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering against the truth, by counting.

    Pairs are unordered pairs of records in one cluster. Records of ``truth`` missing from
    ``predicted_clusters`` count as singletons. With no predicted pairs precision is 1.0
    (nothing claimed, nothing wrong); with no true pairs recall is 1.0.

    Raises:
        ValueError: a predicted record is not in ``truth``.
    """
    unknown = predicted_clusters.keys() - truth.keys()
    if unknown:
        raise ValueError(f"{len(unknown)} predicted records are not in the truth")
    clusters: Counter[object] = Counter()
    persons: Counter[object] = Counter()
    cells: Counter[object] = Counter()
    for key, person in truth.items():
        label = (0, predicted_clusters[key]) if key in predicted_clusters else (1, key)
        clusters[label] += 1
        persons[person] += 1
        cells[(label, person)] += 1
    tp, predicted, true = _pairs(cells), _pairs(clusters), _pairs(persons)
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true,
        "predicted_pairs": predicted,
        "tp": tp,
    }
