"""Fictitious people and places of the demonstration district (三元区), generated from a seed.

Nothing here describes a real person: names are drawn from lists of common surnames and given
names typical of the generation born 1930–1964, ID numbers are built to be *valid* (region
350404 + birth date + sequence + GB 11643 check digit) so that every form and check accepts them,
and phone numbers come from blocks that look reserved (199-0000-xxxx and neighbours) so that a
demo SMS can never reach a stranger (the demo uses the console/fake providers anyway).
Home positions are scattered around each township's approximate centre (WGS-84).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from stdnum.cn import ric

DISTRICT_CODE = "350404000000"
ID_REGION = "350404"

# Common surnames of 三明 (闽西北), weighted by repetition.
SURNAMES = (
    "陈陈陈林林林黄黄张张李李王吴刘刘蔡杨郑郑许罗邓余谢肖曾叶邱廖赖徐周朱魏何江范詹"
    "丁卢严邹傅官涂池饶温连伍施俞"
)
GIVEN_FEMALE = [
    "秀英",
    "桂英",
    "玉兰",
    "秀兰",
    "美玉",
    "金花",
    "秀珍",
    "淑珍",
    "玉梅",
    "凤英",
    "月娥",
    "桂兰",
    "丽华",
    "素珍",
    "秀琴",
    "美英",
    "玉珍",
    "爱华",
    "春梅",
    "银花",
    "金英",
    "玉英",
    "秀云",
    "冬梅",
    "月英",
    "瑞英",
    "宝珠",
    "惠珍",
    "兰英",
    "玉凤",
]
GIVEN_MALE = [
    "建国",
    "国华",
    "德明",
    "永福",
    "金水",
    "文华",
    "明德",
    "志强",
    "振华",
    "福生",
    "春生",
    "有才",
    "水生",
    "建华",
    "国强",
    "长生",
    "天赐",
    "炳坤",
    "火旺",
    "清泉",
    "木生",
    "土生",
    "金生",
    "永昌",
    "荣华",
    "光明",
    "德胜",
    "家福",
    "文忠",
    "宗明",
]
GIVEN_YOUNGER = [
    "伟",
    "芳",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀梅",
    "晓燕",
    "建军",
    "海燕",
    "志明",
    "丽娟",
    "小红",
    "国庆",
    "红梅",
    "卫东",
    "建平",
    "雪梅",
]
ROADS = [
    "新市北路",
    "列东街",
    "东新二路",
    "乐华路",
    "崇桂路",
    "绿岩路",
    "城关路",
    "富兴路",
    "白沙路",
    "荆东路",
]
DIALECTS = ("普通话", "三明话", "沙县话", "客家话", "闽南话")

# Approximate centres (WGS-84) of the townships/streets of 三元区; homes scatter around them.
TOWN_CENTRES: dict[str, tuple[float, float]] = {
    "350404001": (26.2700, 117.6400),  # 列东街道
    "350404002": (26.2680, 117.6250),  # 列西街道
    "350404003": (26.2850, 117.6450),  # 徐碧街道
    "350404004": (26.2350, 117.6100),  # 城关街道
    "350404005": (26.2250, 117.5950),  # 白沙街道
    "350404006": (26.2500, 117.6250),  # 富兴堡街道
    "350404007": (26.2150, 117.5800),  # 荆西街道
    "350404100": (26.3350, 117.6800),  # 陈大镇
    "350404101": (26.3100, 117.7400),  # 洋溪镇
    "350404102": (26.1800, 117.5200),  # 莘口镇
    "350404103": (26.1000, 117.6400),  # 岩前镇
    "350404200": (26.1400, 117.7600),  # 中村乡
    "350404500": (26.2950, 117.6600),  # 经济开发区
}
DEFAULT_CENTRE = (26.2634, 117.6390)


@dataclass(frozen=True)
class Person:
    name: str
    female: bool
    birth_date: dt.date
    id_number: str


def id_number(birth_date: dt.date, sequence: int, *, female: bool) -> str:
    """A valid fictitious resident ID number: 350404 + birth date + sequence (odd = male) + check digit.

    The check digit is computed by stdnum on the full 18-character string (its last character is a
    placeholder that `calc_check_digit` ignores). `sequence` 0–499 keeps numbers with the same birth
    date distinct.
    """
    seq3 = (sequence % 500) * 2 + (0 if female else 1)
    body = f"{ID_REGION}{birth_date:%Y%m%d}{seq3:03d}"
    return body + ric.calc_check_digit(body + "0")


def elderly_person(rng: random.Random, index: int) -> Person:
    female = rng.random() < 0.58  # more women than men among the oldest
    birth = dt.date(1930, 1, 1) + dt.timedelta(
        days=rng.randrange((dt.date(1964, 12, 31) - dt.date(1930, 1, 1)).days)
    )
    surname = rng.choice(SURNAMES)
    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
    return Person(f"{surname}{given}", female, birth, id_number(birth, index, female=female))


def relative_name(rng: random.Random, surname: str, *, same_surname: bool) -> str:
    return f"{surname if same_surname else rng.choice(SURNAMES)}{rng.choice(GIVEN_YOUNGER)}"


def phone(block: str, n: int) -> str:
    """An 11-digit mobile number in a reserved-looking block: `block` is 7 digits, e.g. 1990000."""
    return f"{block}{n % 10000:04d}"


def home_near(rng: random.Random, village_code: str) -> tuple[float, float]:
    lat, lon = TOWN_CENTRES.get(village_code[:9], DEFAULT_CENTRE)
    return round(lat + rng.uniform(-0.012, 0.012), 6), round(lon + rng.uniform(-0.012, 0.012), 6)


def address(rng: random.Random, town_name: str, village_name: str, urban: bool) -> str:
    if urban:
        return (
            f"三明市三元区{town_name}{village_name}{rng.choice(ROADS)}{rng.randint(1, 180)}号"
            f"{rng.randint(1, 12)}幢{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
        )
    return f"三明市三元区{town_name}{village_name}{rng.randint(1, 12)}组{rng.randint(1, 90)}号"
