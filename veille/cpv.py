"""What readers see for a CPV code: the label of its most specific known prefix, in their language.

The codes are those of the water sector (CPV 2008, Regulation (EC) No 213/2008), from the division down to
the codes tenders of the sector carry most; a code not listed gets its closest listed parent's label.
"""

from __future__ import annotations

# prefix (trailing zeros of the code removed) -> (English, French)
LABELS: dict[str, tuple[str, str]] = {
    "09": ("Petroleum products, fuel, electricity and other sources of energy",
           "Produits pétroliers, combustibles, électricité et autres sources d'énergie"),
    "31": ("Electrical machinery, apparatus, equipment and consumables", "Machines, appareils et matériel électriques"),
    "38": ("Laboratory, optical and precision equipment", "Équipements de laboratoire, d'optique et de précision"),
    "38421": ("Flow-measuring equipment", "Débitmètres"),
    "3842111": ("Water meters", "Compteurs d'eau"),
    "38431": ("Detection apparatus", "Appareils de détection"),
    "3843": ("Detection and analysis apparatus", "Appareils de détection et d'analyse"),
    "38432": ("Analysis apparatus", "Appareils d'analyse"),
    "39": ("Furniture, furnishings, domestic appliances and cleaning products",
           "Meubles, aménagements, appareils électroménagers et produits de nettoyage"),
    "42": ("Industrial machinery", "Machines industrielles"),
    "4212": ("Pumps and compressors", "Pompes et compresseurs"),
    "42912": ("Liquid filtering or purifying machinery and apparatus",
              "Machines et appareils pour la filtration ou l'épuration des liquides"),
    "4291231": ("Water filtration apparatus", "Appareils de filtration de l'eau"),
    "42996": ("Sewage treatment machinery", "Machines pour le traitement des eaux usées"),
    "44": ("Construction structures and materials", "Structures et matériaux de construction"),
    "44163": ("Pipes and fittings", "Tuyaux et raccords"),
    "45": ("Construction work", "Travaux de construction"),
    "4523": ("Construction work for pipelines, communication and power lines, highways, roads, airfields and "
             "railways", "Travaux de construction de pipelines, de lignes de communication et d'énergie, "
             "d'autoroutes, de routes, d'aérodromes et de voies ferrées"),
    "452313": ("Construction work for water and sewage pipelines",
               "Travaux de construction de conduites d'eau et d'eaux usées"),
    "45232": ("Ancillary works for pipelines and cables", "Travaux annexes pour pipelines et câbles"),
    "452321": ("Ancillary works for water pipelines", "Travaux annexes pour conduites d'eau"),
    "4523215": ("Works related to water-distribution pipelines",
                "Travaux relatifs aux conduites de distribution d'eau"),
    "452324": ("Sewer construction work", "Travaux de construction d'égouts"),
    "4523242": ("Sewage work", "Travaux d'assainissement"),
    "4523243": ("Water-treatment work", "Travaux de traitement de l'eau"),
    "4524": ("Construction work for water projects", "Travaux de construction d'ouvrages hydrauliques"),
    "4525": ("Construction works for plants, mining and manufacturing and for buildings relating to the oil and gas "
             "industry", "Travaux de construction d'usines, d'installations minières et de fabrication et de "
             "bâtiments liés à l'industrie du pétrole et du gaz"),
    "45252": ("Construction works for sewage treatment plants, purification plants and refuse incineration plants",
              "Travaux de construction de stations d'épuration, d'usines de traitement et d'incinérateurs"),
    "452521": ("Sewage-treatment plant construction work", "Travaux de construction de stations d'épuration"),
    "4525212": ("Water-treatment plant construction work", "Travaux de construction d'usines de traitement de l'eau"),
    "45252126": ("Drinking-water treatment plant construction work",
                 "Travaux de construction d'usines de traitement d'eau potable"),
    "45252127": ("Wastewater treatment plant construction work",
                 "Travaux de construction d'usines de traitement des eaux usées"),
    "452522": ("Purification plant equipment", "Équipements d'usines de traitement"),
    "45259": ("Repair and maintenance of plant", "Réparation et entretien d'usines"),
    "4533": ("Plumbing and sanitary works", "Travaux de plomberie et travaux sanitaires"),
    "50": ("Repair and maintenance services", "Services de réparation et d'entretien"),
    "65": ("Public utilities", "Services publics"),
    "651": ("Water distribution and related services", "Distribution d'eau et services connexes"),
    "71": ("Architectural, construction, engineering and inspection services",
           "Services d'architecture, de construction, d'ingénierie et d'inspection"),
    "713": ("Engineering services", "Services d'ingénierie"),
    "71631": ("Technical inspection services", "Services d'inspection technique"),
    "7190": ("Laboratory services", "Services de laboratoire"),
    "73": ("Research and development services", "Services de recherche et développement"),
    "90": ("Sewage, refuse, cleaning and environmental services",
           "Services d'évacuation des eaux usées et des déchets, services d'assainissement et services "
           "environnementaux"),
    "904": ("Sewage services", "Services d'assainissement"),
    "9041": ("Sewage removal services", "Services d'évacuation des eaux usées"),
    "9042": ("Sewage treatment services", "Services de traitement des eaux usées"),
    "9048": ("Sewage system management services", "Services de gestion du réseau d'assainissement"),
    "90513": ("Non-hazardous refuse and waste treatment and disposal services",
              "Services de traitement et d'élimination des déchets non dangereux"),
    "9071": ("Environmental management", "Gestion environnementale"),
    "90733": ("Services related to water pollution", "Services relatifs à la pollution de l'eau"),
}


def cpv_label(code: str, lang: str) -> str:
    """The label of `code` (8 digits, a check digit after a dash allowed) in `lang`, or "" when none is known."""
    digits = code.split("-")[0].strip()
    for length in range(len(digits), 1, -1):
        prefix = digits[:length].rstrip("0") if length == len(digits) else digits[:length]
        found = LABELS.get(prefix)
        if found:
            return found[1] if lang == "fr" else found[0]
    return ""
