"""Synthetic people, houses and organisations for the demo grids: valid checksums, never real persons.

Deterministic (a seeded generator), inserted in bulk, and skipped when the
demo district already has people, so ``jiceng demo`` stays idempotent.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, AreaLevel, within
from jiceng.core.db import utcnow
from jiceng.core.records.models import FieldChange, House, Organisation, Person, PersonTag
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE
from jiceng.core.records.validation import USCC_CHARSET, id_check_char, uscc_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文玉兰红梅志强春梅海燕晓东德明小红永刚丹凤"
STREETS = ("民族路", "民权路", "五一路", "新华路", "解放东路", "中山一路", "邹容路", "八一路", "大同路", "较场口")
ETHNICITIES = ("汉族",) * 18 + ("土家族", "苗族")
TAGS = ("党员", "低保", "高龄", "残疾", "重点人员")
SHOPS = ("火锅店", "小面馆", "便利店", "药房", "理发店", "五金店", "茶馆", "水果店")
PEOPLE_PER_GRID = 30
HOUSES_PER_GRID = 10
SHOPS_PER_GRID = 3


def id_number(rng: random.Random, region: str, birth: date, male: bool) -> str:
    sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def uscc(rng: random.Random, region: str) -> str:
    body = "".join(rng.choice(USCC_CHARSET[:10]) for _ in range(8)) + rng.choice(USCC_CHARSET)
    first17 = f"92{region}{body}"
    return first17 + uscc_check_char(first17)


def phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def load_records(session: Session, district_path: str, *, seed: int = 2026) -> dict[str, int]:
    """Fill every grid under the district; nothing when it already has people."""
    if session.exec(
        select(func.count()).select_from(Person).where(within(col(Person.area_path), [district_path]))
    ).one():
        return {"people": 0, "houses": 0, "organisations": 0}
    rng = random.Random(seed)
    grids = session.exec(
        select(Area)
        .where(col(Area.level) == AreaLevel.grid, within(col(Area.path), [district_path]))
        .order_by(col(Area.code))
    ).all()
    region = [c for c in district_path.split("/") if c][1][:6]
    people: list[dict[str, object]] = []
    houses: list[dict[str, object]] = []
    shops: list[dict[str, object]] = []
    now = utcnow()
    for grid in grids:
        place = {
            "area_code": grid.code,
            "area_path": grid.path,
            "version": 1,
            "extra": {},
            "created_at": now,
            "updated_at": now,
        }
        street = rng.choice(STREETS)
        for h in range(HOUSES_PER_GRID):
            houses.append(
                place
                | {
                    "address": f"渝中区{street}{rng.randrange(1, 300)}号",
                    "building": str(h // 4 + 1),
                    "unit": "1",
                    "room": f"{h % 4 + 1}0{h % 3 + 1}",
                    "use": rng.choice(("residential", "residential", "rental", "vacant")),
                }
            )
        for _ in range(PEOPLE_PER_GRID):
            male = rng.random() < 0.5
            birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))
            number = id_number(rng, region, birth, male)
            people.append(
                place
                | {
                    "id_number": number,
                    "id_tail": number[-4:],
                    "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                    "gender": "male" if male else "female",
                    "birth_date": birth,
                    "ethnicity": rng.choice(ETHNICITIES),
                    "phone": phone(rng) if birth.year > 1945 else "",
                    "hukou_address": f"重庆市渝中区{street}{rng.randrange(1, 300)}号",
                    "current_address": f"重庆市渝中区{street}{rng.randrange(1, 300)}号",
                }
            )
        for _ in range(SHOPS_PER_GRID):
            shops.append(
                place
                | {
                    "uscc": uscc(rng, region),
                    "name": f"渝中区{rng.choice(SURNAMES)}记{rng.choice(SHOPS)}",
                    "kind": "individual_business",
                    "legal_representative": rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "phone": phone(rng),
                    "registered_address": f"重庆市渝中区{street}{rng.randrange(1, 300)}号",
                    "licence_state": "存续",
                }
            )
    unique = {p["id_number"]: p for p in people}
    for model, rows in ((Person, list(unique.values())), (House, houses), (Organisation, shops)):
        if rows:
            session.execute(insert(model), rows)
    _provenance(session)
    person_ids = session.exec(select(Person.id).where(within(col(Person.area_path), [district_path]))).all()
    tags = [{"person_id": pid, "tag": rng.choice(TAGS)} for pid in person_ids if rng.random() < 0.15]
    if tags:
        session.execute(insert(PersonTag), tags)
    return {"people": len(unique), "houses": len(houses), "organisations": len(shops)}


def _provenance(session: Session) -> None:
    """One provenance row per record: the demo loader created it."""
    for spec in (PEOPLE, HOUSES, ORGANISATIONS):
        ids = session.exec(select(spec.model.id)).all()  # type: ignore[attr-defined]
        rows = [
            {
                "record_type": spec.name,
                "record_id": i,
                "field": "created",
                "old": None,
                "new": "demo",
                "source": "import",
                "source_ref": "jiceng demo",
                "actor": "demo",
                "at": utcnow(),
            }
            for i in ids
        ]
        if rows:
            session.execute(insert(FieldChange), rows)
