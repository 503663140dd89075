"""The catalogue of services the assistant can name.

Canonical ids are what EntitySynonymMapper produces for the ``service``
entity (see data/nlu/services.yml); the display names are what the bot says.
A test keeps the two files in step.
"""
from __future__ import annotations

SERVICE_NAMES: dict[str, str] = {
    "passport_foreign": "Оформление загранпаспорта",
    "passport_internal": "Получение и замена паспорта гражданина РФ",
    "snils": "Получение СНИЛС",
    "inn": "Получение ИНН",
    "driver_license": "Получение и замена водительского удостоверения",
    "vehicle_registration": "Регистрация транспортного средства",
    "traffic_fines": "Оплата штрафов ГИБДД",
    "oms_policy": "Оформление полиса ОМС",
    "doctor_appointment": "Запись на приём к врачу",
    "birth_registration": "Регистрация рождения ребёнка",
    "marriage_registration": "Регистрация брака",
    "divorce_registration": "Расторжение брака",
    "death_registration": "Государственная регистрация смерти",
    "residence_registration": "Регистрация по месту жительства или пребывания",
    "maternity_capital": "Материнский капитал",
    "child_benefit": "Единое пособие на детей",
    "pension": "Назначение пенсии",
    "kindergarten": "Запись в детский сад",
    "school_enrollment": "Запись в школу",
    "tax_deduction": "Налоговый вычет",
    "tax_debt": "Проверка и оплата налоговой задолженности",
    "criminal_record_certificate": "Справка о наличии (отсутствии) судимости",
    "income_certificate": "Справка о доходах",
    "egrn_extract": "Выписка из ЕГРН",
    "unemployment": "Регистрация в качестве безработного и пособие по безработице",
    "housing_subsidy": "Субсидия на оплату жилого помещения и коммунальных услуг",
    "military_registration": "Воинский учёт",
    "disability": "Установление инвалидности",
}


def display_name(service_id: str | None) -> str | None:
    return SERVICE_NAMES.get(service_id or "")
