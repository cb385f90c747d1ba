"""Every interface string of a rendered report, in English and Russian.

A report goes to readers in both languages, and a Russian report with one English heading
looks careless to a court and is unreadable to some of the people it is about. So the
renderer takes no literal text: every word it adds comes from :data:`CATALOGUE` through
:func:`text`, and ``tests/reports/test_render.py`` renders a Russian report and checks that
every key has a Russian text and that no English one appears in it.

Texts may hold ``{name}`` placeholders; :func:`text` fills them with values the caller has
already escaped for HTML (the catalogue itself is plain text and is escaped here).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Final

__all__ = ["CATALOGUE", "LANGUAGES", "text"]

LANGUAGES: Final = ("en", "ru")

CATALOGUE: Final[Mapping[str, Mapping[str, str]]] = {
    # Title page
    "period": {"en": "Period covered", "ru": "Охваченный период"},
    "period_range": {"en": "{start} to {end}", "ru": "с {start} по {end}"},
    "parameters": {"en": "How the figures were protected", "ru": "Как защищены данные"},
    "param_k": {
        "en": "Smallest count published (k): {k}",
        "ru": "Наименьшее публикуемое число (k): {k}",
    },
    "param_date_grain": {
        "en": "Dates shown by: {grain}",
        "ru": "Даты указаны с точностью до: {grain}",
    },
    "param_place_grain": {
        "en": "Places shown by: {grain}",
        "ru": "Места указаны с точностью до: {grain}",
    },
    "grain_week": {"en": "week", "ru": "недели"},
    "grain_month": {"en": "month", "ru": "месяца"},
    "grain_district": {"en": "district", "ru": "района"},
    "grain_region": {"en": "region", "ru": "региона"},
    "noise_off": {
        "en": "Calibrated noise: none; the counts are exact, except where suppressed.",
        "ru": "Калиброванный шум: нет; числа точные, кроме скрытых.",
    },
    "noise_on": {
        "en": "Calibrated noise (differential privacy): {mechanism}, epsilon (ε) = {epsilon}, "
        "sensitivity {sensitivity}. Every count may differ a little from the true count; "
        "smaller ε means more noise and more protection.",
        "ru": "Калиброванный шум (дифференциальная приватность): {mechanism}, эпсилон (ε) = "
        "{epsilon}, чувствительность {sensitivity}. Каждое число может немного отличаться от "
        "истинного; чем меньше ε, тем больше шум и сильнее защита.",
    },
    "software": {"en": "Made with {name} {version}", "ru": "Подготовлено в {name} {version}"},
    "contents": {"en": "Contents", "ru": "Содержание"},
    # Reading the report
    "reading": {"en": "How to read this report", "ru": "Как читать этот доклад"},
    "reading_text": {
        "en": "The figures count documented cases, not every case that happened. Dates and "
        "places are shown coarsely and persons by pseudonyms, so that no one can be "
        "recognised from this report.",
        "ru": "Числа отражают задокументированные случаи, а не все случившиеся. Даты и места "
        "указаны приблизительно, а люди — под псевдонимами, чтобы никого нельзя было узнать "
        "по этому докладу.",
    },
    "mark_legend": {
        "en": "{mark} means a count that is hidden: fewer than {k}, or hidden so that another "
        "hidden count cannot be worked out from the totals.",
        "ru": "{mark} — скрытое число: меньше {k} или скрыто, чтобы другое скрытое число "
        "нельзя было вычислить из итогов.",
    },
    "suppressed": {"en": "hidden", "ru": "скрыто"},
    # Tables and charts
    "counts": {"en": "Counts", "ru": "Подсчёты"},
    "count": {"en": "Count", "ru": "Число"},
    "total": {"en": "Total", "ru": "Итого"},
    "table_noise": {
        "en": "Counts in this table carry calibrated noise (ε = {epsilon}).",
        "ru": "Числа в этой таблице содержат калиброванный шум (ε = {epsilon}).",
    },
    "chart_gaps": {
        "en": "{n} of {total} values are hidden and drawn as gaps.",
        "ru": "Скрыто значений: {n} из {total}; на графике на их месте пропуск.",
    },
    "chart_no_gaps": {"en": "No value is hidden.", "ru": "Скрытых значений нет."},
    "chart_hidden_legend": {"en": "hidden value (gap)", "ru": "скрытое значение (пропуск)"},
    "chart_figure": {"en": "Chart: {title}", "ru": "График: {title}"},
    # Unique victims
    "unique_victims": {"en": "Persons and reports", "ru": "Люди и сообщения"},
    "reports": {"en": "Reports", "ru": "Сообщения"},
    "victims": {"en": "Distinct persons", "ru": "Разные люди"},
    "unique_victims_caption": {
        "en": "Reports received and the distinct persons they are about, after linkage.",
        "ru": "Полученные сообщения и число разных людей, о которых они, после связывания записей.",
    },
    "measure": {"en": "Measure", "ru": "Показатель"},
    # Estimates
    "estimates": {
        "en": "Estimates of cases not documented",
        "ru": "Оценки незадокументированных случаев",
    },
    "estimates_intro": {
        "en": "An estimate is a range, not a count: the true number lies in the interval with "
        "the stated probability only if the method's assumptions hold.",
        "ru": "Оценка — это диапазон, а не подсчёт: истинное число лежит в интервале с указанной "
        "вероятностью, только если выполнены допущения метода.",
    },
    "method_loglinear": {
        "en": "Log-linear models (multiple systems estimation)",
        "ru": "Лог-линейные модели (оценка по нескольким спискам)",
    },
    "method_lcmcr": {
        "en": "Bayesian latent-class model (LCMCR)",
        "ru": "Байесовская модель латентных классов (LCMCR)",
    },
    "method_dga": {
        "en": "Bayesian model averaging over decomposable graphs (DGA)",
        "ru": "Байесовское усреднение по разложимым графам (DGA)",
    },
    "stratum": {"en": "Group: {stratum}", "ru": "Группа: {stratum}"},
    "observed": {"en": "Documented (observed)", "ru": "Задокументировано (наблюдалось)"},
    "estimate": {"en": "Estimated total", "ru": "Оценка общего числа"},
    "interval": {
        "en": "{level} interval: {lo} to {hi}",
        "ru": "интервал {level}: от {lo} до {hi}",
    },
    "no_interval": {
        "en": "No interval could be given, so the estimate must not be quoted alone.",
        "ru": "Интервал получить не удалось, поэтому оценку нельзя приводить отдельно.",
    },
    "no_estimate": {
        "en": "No estimate could be made.",
        "ru": "Оценку получить не удалось.",
    },
    "no_reason": {
        "en": "The method gave no reason.",
        "ru": "Метод не указал причину.",
    },
    "assumptions": {"en": "Assumptions", "ru": "Допущения"},
    "warnings": {"en": "Warnings", "ru": "Предупреждения"},
    # Timeline, summaries, evidence, notes
    "timeline": {"en": "Timeline", "ru": "Хронология"},
    "when": {"en": "When", "ru": "Когда"},
    "what": {"en": "What happened", "ru": "Что произошло"},
    "timeline_caption": {
        "en": "Events in order, with coarsened dates.",
        "ru": "События по порядку; даты указаны приблизительно.",
    },
    "summaries": {"en": "Case summaries", "ru": "Краткое описание случаев"},
    "summary_when_where": {
        "en": "When: {when}. Where: {where}.",
        "ru": "Когда: {when}. Где: {where}.",
    },
    "evidence": {"en": "Evidence annex", "ru": "Приложение: доказательства"},
    "evidence_intro": {
        "en": "Each item is held by the documentation desk in encrypted form with its chain of "
        "custody. A court or an international mechanism may request an item's bundle (the "
        "file and its custody record) from the desk in writing, naming the item and its "
        "SHA-256; the desk releases it after checking the request, and the recipient can "
        "confirm the file is unchanged by computing its SHA-256.",
        "ru": "Каждый материал хранится у группы документирования в зашифрованном виде вместе с "
        "цепочкой хранения. Суд или международный механизм может письменно запросить у группы "
        "пакет материала (файл и запись о хранении), указав материал и его SHA-256; группа "
        "выдаёт пакет после проверки запроса, а получатель может убедиться, что файл не "
        "изменён, вычислив его SHA-256.",
    },
    "evidence_caption": {
        "en": "Evidence items, their fingerprints (SHA-256) and custody.",
        "ru": "Материалы, их отпечатки (SHA-256) и хранение.",
    },
    "item": {"en": "Item", "ru": "Материал"},
    "media_type": {"en": "Media type", "ru": "Тип файла"},
    "sha256_heading": {"en": "SHA-256 fingerprint", "ru": "Отпечаток SHA-256"},
    "size": {"en": "Size", "ru": "Размер"},
    "size_bytes": {"en": "{n} bytes", "ru": "{n} байт"},
    "custody": {"en": "Custody", "ru": "Хранение"},
    "custody_text": {
        "en": "{events} recorded events, {first} to {last}",
        "ru": "Записанных событий: {events}, с {first} по {last}",
    },
    "notes": {"en": "Notes", "ru": "Примечания"},
}
"""Key → language → text. Keys are stable; both languages are required for every key."""


def text(key: str, language: str, **values: str) -> str:
    """The HTML-escaped interface text ``key`` in ``language`` with ``values`` filled in.

    ``values`` are inserted as they are: the caller escapes them (they are usually numbers
    formatted here or data escaped with :func:`html.escape`).
    """
    template = html.escape(CATALOGUE[key][language], quote=True)
    return template.format(**values) if values else template
