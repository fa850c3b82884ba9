#!/usr/bin/env python3
"""Generate N synthetic, realistic-looking supplier profiles (JSON Lines) for load tests.

Profiles mix Dutch, English and French automotive vocabulary so that the per-language analysers and
BM25 statistics see a corpus shaped like the real one. Output is deterministic for a given seed.

    python3 bench/gen_profiles.py 100000 --seed 7 > /tmp/profiles-100k.jsonl
"""
import argparse
import json
import random
import sys

TOPICS = {
    "en": [
        ("battery", "battery packs", "cell-to-pack battery housings", "thermal runaway barriers", "battery recycling"),
        ("lidar", "solid-state lidar", "sensor fusion for driver assistance", "radar calibration", "camera cleaning"),
        ("hydrogen", "hydrogen storage vessels", "fuel cell stacks", "refuelling stations", "composite tanks"),
        ("composites", "lightweight composite parts", "carbon fibre body panels", "recycled thermoplastics", "bio-based foams"),
        ("manufacturing", "inline quality inspection", "digital twins of assembly lines", "metal additive manufacturing", "laser welding"),
        ("charging", "fast chargers for trucks", "bidirectional charging", "smart charging software", "wireless charging pads"),
        ("cabin", "occupant monitoring", "child presence detection", "seat heating films", "acoustic comfort"),
        ("v2x", "cooperative perception", "vehicle-to-everything messaging", "vulnerable road user protection", "platooning"),
    ],
    "nl": [
        ("batterij", "batterijpakketten", "behuizingen voor batterijmodules", "brandwerende coatings", "hergebruik van accu's"),
        ("sensoren", "lidar voor korte afstand", "radarsensoren in bumpers", "camerasystemen", "sensorreiniging"),
        ("waterstof", "waterstoftanks", "brandstofcellen voor bestelwagens", "tankstations voor waterstof", "drukvaten van composiet"),
        ("materialen", "lichtgewicht composietonderdelen", "gerecyclede kunststoffen", "natuurvezels", "biobased schuim"),
        ("productie", "kwaliteitsinspectie in de lijn", "digitale tweelingen van productielijnen", "3D-printen van metaal", "lasrobots"),
        ("laden", "snelladers voor bussen en vrachtwagens", "bidirectioneel laden", "slim laden", "inductief laden"),
        ("interieur", "bestuurdersmonitoring", "detectie van kinderen in de auto", "stoelverwarming", "akoestisch comfort"),
        ("mobiliteit", "coöperatieve perceptie", "V2X-communicatie", "bescherming van fietsers", "autonome shuttles"),
    ],
    "fr": [
        ("batterie", "packs batterie", "carters de batterie légers", "barrières anti-propagation thermique", "recyclage des batteries"),
        ("capteurs", "lidar à courte portée", "radars intégrés", "caméras de recul", "nettoyage des capteurs"),
        ("hydrogène", "réservoirs d'hydrogène", "piles à combustible", "stations de ravitaillement", "réservoirs composites"),
        ("matériaux", "pièces composites allégées", "thermoplastiques recyclés", "fibres naturelles", "mousses biosourcées"),
        ("production", "contrôle qualité en ligne", "jumeaux numériques des lignes", "fabrication additive métallique", "soudage laser"),
        ("recharge", "bornes de recharge rapide", "recharge bidirectionnelle", "recharge intelligente", "recharge par induction"),
        ("habitacle", "surveillance des occupants", "détection de présence d'enfants", "sièges chauffants", "confort acoustique"),
        ("mobilité", "perception coopérative", "communication V2X", "protection des usagers vulnérables", "navettes autonomes"),
    ],
}
THEMES = ["smart_mobility", "green_mobility", "materials", "manufacturing"]
TOPIC_THEME = [["green_mobility"], ["smart_mobility"], ["green_mobility"], ["materials"], ["manufacturing"],
               ["green_mobility"], ["smart_mobility"], ["smart_mobility"]]
TEMPLATES = {
    "en": ["{name} develops {a} for cars, vans and trucks.", "Our team combines {b} with {c}.",
           "We work with OEMs and Tier-1 suppliers on {d}.", "Pilots with {e} run at two European plants.",
           "The technology cuts cost and weight compared with current {a}."],
    "nl": ["{name} ontwikkelt {a} voor personenauto's, bestelwagens en vrachtwagens.", "Ons team combineert {b} met {c}.",
           "Wij werken samen met OEM's en toeleveranciers aan {d}.", "Proeven met {e} lopen in twee Europese fabrieken.",
           "De technologie verlaagt kosten en gewicht ten opzichte van bestaande {a}."],
    "fr": ["{name} développe des {a} pour voitures, utilitaires et poids lourds.", "Notre équipe combine {b} et {c}.",
           "Nous travaillons avec des constructeurs et des équipementiers sur {d}.",
           "Des essais de {e} sont en cours dans deux usines européennes.",
           "La technologie réduit le coût et la masse par rapport aux {a} actuels."],
}
CITIES = ["Eindhoven", "Helmond", "Delft", "Enschede", "Nijmegen", "Arnhem", "Tilburg", "Groningen", "Rotterdam", "Zwolle"]
SYLLABLES = ["volt", "aris", "spad", "nest", "tec", "lume", "ferro", "kwant", "rijn", "maas", "dyn", "ion", "flux", "vorm"]


def profile(i: int, rng: random.Random) -> dict:
    lang = rng.choices(["nl", "en", "fr"], weights=[5, 4, 1])[0]
    t1 = rng.randrange(len(TOPICS[lang]))
    t2 = rng.randrange(len(TOPICS[lang]))
    main, other = TOPICS[lang][t1], TOPICS[lang][t2]
    name = "".join(rng.choice(SYLLABLES) for _ in range(2)).capitalize() + rng.choice([" B.V.", " Technologies", " Lab"])
    words = dict(name=name, a=main[1], b=main[2], c=other[rng.randrange(1, 5)], d=main[3], e=main[4])
    sentences = [s.format(**words) for s in TEMPLATES[lang]]
    summary = " ".join(sentences[: rng.randint(3, 5)])
    kind = "knowledge_institution" if rng.random() < 0.15 else "company"
    p = {
        "id": f"syn-{i:06d}",
        "name": name,
        "kind": kind,
        "city": rng.choice(CITIES),
        "language": lang,
        "summary": summary,
        "innovations": [f"{main[rng.randrange(1, 5)]} ({rng.randint(2019, 2026)})" for _ in range(rng.randint(1, 3))],
        "keywords": sorted({rng.choice(main[1:]) for _ in range(rng.randint(2, 5))} | {main[0]}),
        "themes": sorted(set(TOPIC_THEME[t1] + (TOPIC_THEME[t2] if rng.random() < 0.3 else []))),
        "trl": rng.randint(2, 9),
    }
    if kind == "company":
        p["size"] = rng.choice(["startup", "sme", "sme", "large"])
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of profiles")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    for i in range(args.n):
        out.write(json.dumps(profile(i, rng), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
