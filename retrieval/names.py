"""What kind of name a word or phrase is: a place, an organisation or a person.

Follow-ups need it ("what about Iran?" after a question about the Pakistan floods in September
replaces Pakistan, the place, not September): a small gazetteer of the names news questions
use (countries, regions and cities in the news, central banks, alliances, agencies, large
companies, leaders) and capitalisation rules for the rest ("President X" and two capitalised
words are a person, "X Bank" and an acronym an organisation, "X Province" a place). A name it
cannot place is of kind UNKNOWN.
"""

from __future__ import annotations

import re

PLACE = "place"
ORG = "organisation"
PERSON = "person"
UNKNOWN = "unknown"

_COUNTRIES = """
Afghanistan; Albania; Algeria; Andorra; Angola; Antigua and Barbuda; Argentina; Armenia; Australia; Austria;
Azerbaijan; Bahamas; Bahrain; Bangladesh; Barbados; Belarus; Belgium; Belize; Benin; Bhutan; Bolivia;
Bosnia and Herzegovina; Bosnia; Botswana; Brazil; Brunei; Bulgaria; Burkina Faso; Burundi; Cambodia; Cameroon;
Canada; Cape Verde; Central African Republic; Chad; Chile; China; Colombia; Comoros; Congo;
Democratic Republic of the Congo; Costa Rica; Croatia; Cuba; Cyprus; Czech Republic; Czechia; Denmark; Djibouti;
Dominica; Dominican Republic; East Timor; Ecuador; Egypt; El Salvador; Equatorial Guinea; Eritrea; Estonia;
Eswatini; Ethiopia; Fiji; Finland; France; Gabon; Gambia; Georgia; Germany; Ghana; Greece; Grenada; Guatemala;
Guinea; Guinea-Bissau; Guyana; Haiti; Honduras; Hungary; Iceland; India; Indonesia; Iran; Iraq; Ireland; Israel;
Italy; Ivory Coast; Jamaica; Japan; Jordan; Kazakhstan; Kenya; Kiribati; Kosovo; Kuwait; Kyrgyzstan; Laos; Latvia;
Lebanon; Lesotho; Liberia; Libya; Liechtenstein; Lithuania; Luxembourg; Madagascar; Malawi; Malaysia; Maldives;
Mali; Malta; Marshall Islands; Mauritania; Mauritius; Mexico; Micronesia; Moldova; Monaco; Mongolia; Montenegro;
Morocco; Mozambique; Myanmar; Burma; Namibia; Nauru; Nepal; Netherlands; New Zealand; Nicaragua; Niger; Nigeria;
North Korea; North Macedonia; Norway; Oman; Pakistan; Palau; Palestine; Panama; Papua New Guinea; Paraguay; Peru;
Philippines; Poland; Portugal; Qatar; Romania; Russia; Rwanda; Samoa; San Marino; Saudi Arabia; Senegal; Serbia;
Seychelles; Sierra Leone; Singapore; Slovakia; Slovenia; Solomon Islands; Somalia; South Africa; South Korea;
Korea; South Sudan; Spain; Sri Lanka; Sudan; Suriname; Sweden; Switzerland; Syria; Taiwan; Tajikistan; Tanzania;
Thailand; Togo; Tonga; Trinidad and Tobago; Tunisia; Turkey; Türkiye; Turkmenistan; Tuvalu; Uganda; Ukraine;
United Arab Emirates; UAE; United Kingdom; UK; U.K.; Britain; Great Britain; England; Scotland; Wales;
Northern Ireland; United States; US; U.S.; USA; U.S.A.; America; Uruguay; Uzbekistan; Vanuatu; Vatican;
Venezuela; Vietnam; Yemen; Zambia; Zimbabwe
"""
_REGIONS = """
Europe; Asia; Africa; North America; South America; Latin America; Middle East; Gulf; Balkans; Baltics;
Scandinavia; Caribbean; Pacific; Arctic; Antarctica; Sahel; Horn of Africa; Central Asia; Southeast Asia;
East Asia; South Asia; West Africa; East Africa; Gaza; Gaza Strip; West Bank; Crimea; Donbas; Donbass; Donetsk;
Luhansk; Kherson; Zaporizhzhia; Kharkiv; Mariupol; Bakhmut; Odesa; Odessa; Mykolaiv; Lviv; Kyiv; Kiev; Bucha;
Irpin; Sumy; Chernihiv; Dnipro; Belgorod; Transnistria; Nagorno-Karabakh; Kashmir; Xinjiang; Tibet; Hong Kong;
Macau; Tigray; Darfur; Kurdistan; Idlib; Aleppo; Damascus; Baghdad; Kabul; Tehran; Beirut; Jerusalem; Tel Aviv;
Riyadh; Dubai; Doha; Cairo; Istanbul; Ankara; Moscow; St Petersburg; Minsk; Warsaw; Berlin; Paris; London;
Madrid; Rome; Brussels; Amsterdam; Vienna; Prague; Budapest; Athens; Lisbon; Dublin; Stockholm; Oslo; Helsinki;
Copenhagen; Geneva; Davos; Beijing; Shanghai; Shenzhen; Wuhan; Taipei; Tokyo; Seoul; Pyongyang; Delhi;
New Delhi; Mumbai; Karachi; Islamabad; Lahore; Dhaka; Colombo; Bangkok; Jakarta; Manila; Singapore; Sydney;
Melbourne; Canberra; Ottawa; Toronto; Montreal; Vancouver; Mexico City; Havana; Caracas; Bogota; Lima;
Santiago; Buenos Aires; Sao Paulo; Rio de Janeiro; Brasilia; Nairobi; Lagos; Abuja; Addis Ababa; Khartoum;
Johannesburg; Cape Town; Kinshasa; Mogadishu; Tripoli; Tunis; Algiers; Rabat; New York; New York City;
Washington; Washington DC; Los Angeles; San Francisco; Chicago; Houston; Miami; Boston; Seattle; Atlanta;
Detroit; Philadelphia; Dallas; Las Vegas; Uvalde; Puerto Rico; Guam; Hawaii; Alaska; Alabama; Arizona; Arkansas;
California; Colorado; Connecticut; Delaware; Florida; Idaho; Illinois; Indiana; Iowa; Kansas; Kentucky;
Louisiana; Maine; Maryland; Massachusetts; Michigan; Minnesota; Mississippi; Missouri; Montana; Nebraska;
Nevada; New Hampshire; New Jersey; New Mexico; North Carolina; North Dakota; Ohio; Oklahoma; Oregon;
Pennsylvania; Rhode Island; South Carolina; South Dakota; Tennessee; Texas; Utah; Vermont; Virginia;
West Virginia; Wisconsin; Wyoming; Quebec; Ontario; Alberta; British Columbia; Queensland; Bavaria; Catalonia;
Sicily; Siberia; Black Sea; Baltic Sea; Red Sea; Mediterranean; South China Sea; Strait of Hormuz; Suez Canal;
Panama Canal
"""
_ORGANISATIONS = """
Fed; Federal Reserve; ECB; European Central Bank; Bank of England; BoE; Bank of Japan; BoJ; People's Bank of China;
Reserve Bank of India; Reserve Bank of Australia; Bank of Canada; Swiss National Bank; Bundesbank; IMF;
International Monetary Fund; World Bank; WTO; World Trade Organization; UN; United Nations; UN Security Council;
Security Council; UNICEF; UNHCR; NATO; EU; European Union; European Commission; European Parliament; Commission;
WHO; World Health Organization; OPEC; OPEC+; G7; G20; ASEAN; African Union; Arab League; IAEA; ICC; Interpol;
Red Cross; Kremlin; Pentagon; White House; Congress; Senate; Parliament; Supreme Court; Bundestag;
Downing Street; State Department; Treasury; FBI; CIA; NSA; SEC; FDA; CDC; EPA; FTC; DOJ; Justice Department;
NASA; SpaceX; Hamas; Hezbollah; Taliban; Houthis; Wagner; Wagner Group; Islamic State; ISIS; al-Qaeda;
Democrats; Republicans; Tories; Labour; Conservatives; Apple; Google; Alphabet; Amazon; Microsoft; Meta; Facebook;
Instagram; WhatsApp; Twitter; TikTok; ByteDance; Tesla; Netflix; Nvidia; Intel; AMD; Qualcomm; IBM; Oracle;
Samsung; Sony; Huawei; Alibaba; Tencent; Baidu; Xiaomi; TSMC; Toyota; Honda; Nissan; Volkswagen; BMW; Mercedes;
Ford; GM; General Motors; Stellantis; Boeing; Airbus; Lockheed Martin; BP; Shell; Exxon; ExxonMobil; Chevron;
TotalEnergies; Gazprom; Rosneft; Aramco; Saudi Aramco; Pfizer; Moderna; BioNTech; AstraZeneca; Johnson & Johnson;
Walmart; Costco; Starbucks; McDonald's; Disney; Uber; Lyft; Airbnb; PayPal; Mastercard; JPMorgan;
JPMorgan Chase; Goldman Sachs; Morgan Stanley; Citigroup; Citi; Bank of America; Wells Fargo; HSBC; Barclays;
Credit Suisse; UBS; Deutsche Bank; BlackRock; FTX; Binance; Coinbase; OpenAI; Reuters; AP; BBC; CNN; Bloomberg
"""
_PEOPLE = """
Biden; Joe Biden; Kamala Harris; Trump; Donald Trump; Obama; Putin; Vladimir Putin; Zelensky; Zelenskyy;
Volodymyr Zelensky; Volodymyr Zelenskyy; Xi; Xi Jinping; Li Keqiang; Macron; Emmanuel Macron; Scholz;
Olaf Scholz; Merkel; Boris Johnson; Truss; Liz Truss; Sunak; Rishi Sunak; Starmer; Modi; Narendra Modi; Erdogan;
Erdoğan; Lula; Bolsonaro; Musk; Elon Musk; Bezos; Jeff Bezos; Zuckerberg; Mark Zuckerberg; Tim Cook; Powell;
Jerome Powell; Lagarde; Christine Lagarde; Yellen; Janet Yellen; Pelosi; Nancy Pelosi; McCarthy; McConnell;
Schumer; Guterres; Stoltenberg; Lavrov; Blinken; Lloyd Austin; Shoigu; Prigozhin; Lukashenko; Kadyrov; Kishida;
Fumio Kishida; Abe; Shinzo Abe; Albanese; Trudeau; Justin Trudeau; Netanyahu; Lapid; Bennett; Khamenei; Raisi;
Kim Jong Un; Kim Jong-un; Meloni; Draghi; Sanchez; Sánchez; Orban; Orbán; Duda; Milei; AMLO; Lopez Obrador;
von der Leyen; Ursula von der Leyen; Queen Elizabeth; King Charles; Pope Francis; Prince Harry; Meghan;
Griner; Brittney Griner; Ronaldo; Messi; DeSantis; Newsom; Bankman-Fried; Sam Bankman-Fried; Navalny
"""
# Names read with "the" before them ("the Fed", "the UK", "the Philippines").
THE_NAMES = """
Fed; Federal Reserve; ECB; European Central Bank; Bank of England; Bank of Japan; IMF; World Bank; WTO; UN;
United Nations; UN Security Council; Security Council; NATO; EU; European Union; European Commission;
European Parliament; Commission; WHO; IAEA; ICC; Red Cross; Kremlin; Pentagon; White House; Senate;
Supreme Court; Bundestag; State Department; Treasury; FBI; CIA; NSA; SEC; FDA; CDC; EPA; FTC; DOJ;
Justice Department; Taliban; Houthis; Wagner Group; Islamic State; Democrats; Republicans; Tories;
Conservatives; UK; U.K.; United Kingdom; US; U.S.; USA; U.S.A.; United States; UAE; United Arab Emirates;
Netherlands; Philippines; Bahamas; Gambia; Maldives; Czech Republic; Central African Republic;
Dominican Republic; Democratic Republic of the Congo; Congo; Vatican; Middle East; Gulf; Balkans; Baltics;
Caribbean; Pacific; Arctic; Sahel; Horn of Africa; Gaza Strip; West Bank; Donbas; Donbass; Black Sea;
Baltic Sea; Red Sea; Mediterranean; South China Sea; Strait of Hormuz; Suez Canal; Panama Canal;
Marshall Islands; Solomon Islands
"""
# Gazetteer words that are also common words or pronouns in lower case ("us", "who", "fed"): they
# name something only when capitalised.
_CASE_SENSITIVE = {
    "us",
    "who",
    "fed",
    "shell",
    "apple",
    "meta",
    "amazon",
    "ford",
    "bennett",
    "abe",
    "xi",
    "gulf",
    "pacific",
    "commission",
    "treasury",
    "congress",
    "senate",
    "parliament",
    "labour",
    "conservatives",
    "democrats",
    "republicans",
    "ap",
    "chad",
    "jordan",
    "georgia",
    "turkey",
    "guinea",
    "niger",
    "wales",
    "maine",
    "sanchez",
    "harris",
    "cook",
    "lula",
    "ai",
}
_TITLES = {
    "president",
    "prime",
    "minister",
    "pm",
    "chancellor",
    "mr",
    "mrs",
    "ms",
    "dr",
    "sen",
    "senator",
    "rep",
    "representative",
    "governor",
    "gov",
    "mayor",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "general",
    "gen",
    "secretary",
    "ceo",
    "chairman",
    "chair",
    "judge",
    "justice",
    "sheikh",
    "crown",
    "vice",
    "speaker",
    "ambassador",
    "foreign",
    "defence",
    "defense",
    "finance",
    "leader",
    "commander",
}
_ORG_ENDS = {
    "inc",
    "corp",
    "corporation",
    "company",
    "co",
    "ltd",
    "plc",
    "llc",
    "group",
    "bank",
    "party",
    "ministry",
    "department",
    "council",
    "commission",
    "agency",
    "authority",
    "association",
    "union",
    "airlines",
    "airways",
    "motors",
    "fund",
    "court",
    "parliament",
    "army",
    "navy",
    "police",
    "reserve",
    "university",
    "institute",
    "foundation",
    "organization",
    "organisation",
    "committee",
    "federation",
    "league",
    "forces",
    "times",
    "post",
    "news",
    "club",
    "fc",
    "network",
    "office",
    "board",
    "service",
    "exchange",
}
_PLACE_ENDS = {
    "city",
    "province",
    "state",
    "county",
    "island",
    "islands",
    "region",
    "oblast",
    "sea",
    "river",
    "mountains",
    "valley",
    "strait",
    "peninsula",
    "coast",
    "district",
    "airport",
    "port",
    "bay",
    "lake",
}


def _key(name: str) -> str:
    """A name compared as words: case folded, "U.S." as "us", "Zelensky's" as "zelensky"."""
    text = re.sub(r"['’]s$", "", name.strip())
    text = re.sub(r"(?<=\b\w)\.", "", text)  # U.S.A. -> USA
    return " ".join(text.casefold().split())


def _entries(text: str) -> list[str]:
    return [" ".join(entry.split()) for entry in text.split(";") if entry.strip()]


KNOWN: dict[str, str] = {}
for _kind, _text in ((PERSON, _PEOPLE), (ORG, _ORGANISATIONS), (PLACE, _REGIONS), (PLACE, _COUNTRIES)):
    for _entry in _entries(_text):
        KNOWN[_key(_entry)] = _kind
_THE = {_key(entry) for entry in _entries(THE_NAMES)}
# The gazetteer's names as a pattern, longest first: "South Korea" before "Korea".
_KNOWN_PATTERN = re.compile(
    r"(?<![\w.])(?:"
    + "|".join(
        re.escape(entry).replace(r"\ ", r"\s+")
        for entry in sorted(
            {e for t in (_PEOPLE, _ORGANISATIONS, _REGIONS, _COUNTRIES) for e in _entries(t)}, key=len, reverse=True
        )
    )
    + r")(?![\w+])",
    re.IGNORECASE,
)


def known_kind(name: str) -> str | None:
    """The gazetteer's kind for ``name`` (any case, with or without "the"), None when it is not there."""
    key = _key(name)
    if key.startswith("the "):
        key = key[4:]
    return KNOWN.get(key)


def takes_the(name: str) -> bool:
    """Whether ``name`` is read with "the" before it ("the Fed", "the Netherlands")."""
    key = _key(name)
    return key.startswith("the ") or key in _THE


def kind_of(name: str) -> str:
    """PLACE, ORG, PERSON or UNKNOWN for a name as written ("Iran", "the ECB", "Liz Truss")."""
    text = re.sub(r"^the\s+", "", " ".join(name.split()), flags=re.IGNORECASE)
    known = known_kind(text)
    if known:
        return known
    words = [_key(w) for w in text.split()]
    if not words:
        return UNKNOWN
    if words[0] in _TITLES or KNOWN.get(words[-1]) == PERSON:
        return PERSON
    if words[-1] in _ORG_ENDS:
        return ORG
    if words[-1] in _PLACE_ENDS:
        return PLACE
    capitalised = all(w[:1].isupper() for w in text.split() if w.lower() not in ("of", "the", "de", "al", "bin"))
    if len(words) == 1 and re.fullmatch(r"[A-Z][A-Z0-9&+]{1,5}", text):
        return ORG  # an acronym: FTX, OPEC, SEC
    if len(words) >= 2 and capitalised:
        return PERSON  # "Bart Gorman", "Ramzan Kadyrov"
    return UNKNOWN


def known_names(text: str) -> list[tuple[int, int, str]]:
    """The gazetteer's names in ``text`` as (start, end, kind); a word that is also a common
    word in lower case ("us", "who") counts only when written capitalised."""
    found = []
    for match in _KNOWN_PATTERN.finditer(text):
        words = match.group()
        if _key(words) in _CASE_SENSITIVE and not words[:1].isupper():
            continue
        found.append((match.start(), match.end(), KNOWN[_key(words)]))
    return found
