"""Word lists and sentence templates for the synthetic news corpus (bench/corpus.py)."""

FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan
Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Donald Ashley
Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah
Ahmed Fatima Olena Dmitri Mei Hiroshi Priya Arjun Ana Carlos Sofia Luis Ingrid Lars Amara Kwame Chen Yuki
Aisha Omar Elena Mateo Nadia Pierre Claire Hans Greta Raj Anil Tomasz Katarzyna Ivan Irina Kofi Zainab Jorge
Lucia Marco Giulia Sven Astrid Hassan Leila Jin Hana Samuel Ruth Felipe Camila Viktor Oksana Rashid Amina""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson
Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell
Mitchell Carter Roberts Kowalski Novak Petrenko Ivanova Tanaka Sato Kim Park Singh Patel Sharma Okafor Mensah
Mwangi Haddad Khalil Rossi Bianchi Muller Schmidt Fischer Weber Dubois Laurent Moreau Jensen Nielsen Larsen
Silva Santos Oliveira Costa Fernandes Popescu Horvat Kovacs Nowak Shevchenko Bondarenko Yilmaz Demir Cohen
Levi Friedman Murphy Kelly Byrne Walsh Chen Wang Liu Zhang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo""".split()
COUNTRIES = """Poland Romania Ukraine Russia Germany France Italy Spain Portugal Britain Ireland Norway Sweden Finland
Denmark Estonia Latvia Lithuania Belarus Moldova Hungary Austria Switzerland Belgium Netherlands Greece Turkey
Israel Egypt Jordan Lebanon Iran Iraq Syria India Pakistan Bangladesh China Japan Taiwan Vietnam Thailand
Indonesia Malaysia Philippines Australia Canada Mexico Brazil Argentina Chile Colombia Peru Venezuela Nigeria
Kenya Ethiopia Ghana Senegal Morocco Algeria Tunisia Sudan Somalia Uganda Tanzania Zambia Angola Georgia
Armenia Azerbaijan Kazakhstan Uzbekistan Mongolia""".split()
CITIES = """Warsaw Bucharest Kyiv Kharkiv Odesa Moscow Berlin Munich Hamburg Paris Lyon Marseille Rome Milan Naples
Madrid Barcelona Valencia Lisbon London Manchester Glasgow Dublin Oslo Stockholm Helsinki Copenhagen Tallinn Riga
Vilnius Minsk Budapest Vienna Zurich Geneva Brussels Amsterdam Rotterdam Athens Istanbul Ankara Jerusalem Cairo
Amman Beirut Tehran Baghdad Delhi Mumbai Karachi Dhaka Beijing Shanghai Tokyo Osaka Seoul Taipei Hanoi Bangkok
Jakarta Manila Sydney Melbourne Toronto Montreal Vancouver Chicago Houston Phoenix Denver Seattle Boston Atlanta
Miami Dallas Detroit Baltimore Brooklyn Oakland Sacramento Portland Nairobi Lagos Accra Dakar Casablanca Tunis""".split()
ORGS = [
    "the Pentagon",
    "the State Department",
    "the Kremlin",
    "NATO",
    "the European Union",
    "the United Nations",
    "the World Health Organization",
    "the Federal Reserve",
    "the European Central Bank",
    "the Bank of England",
    "the International Monetary Fund",
    "the World Bank",
    "the Red Cross",
    "Amnesty International",
    "the Supreme Court",
    "the Senate",
    "the House of Representatives",
    "the city council",
    "the Interior Ministry",
    "the Defense Ministry",
    "the Finance Ministry",
    "the Health Ministry",
    "the Justice Department",
    "the FBI",
    "the National Weather Service",
    "the Environmental Protection Agency",
    "the transport authority",
    "the teachers union",
    "the electricity regulator",
    "the central statistics office",
    "the port authority",
    "the coast guard",
    "the fire department",
    "the police department",
    "the school board",
    "the airline",
    "the carmaker",
    "the chipmaker",
    "the energy company",
    "the mining group",
    "the shipping firm",
    "the retailer",
    "the drugmaker",
    "the bank",
    "the insurer",
    "the football club",
    "the Olympic committee",
    "the university",
]
ROLES = [
    "spokesperson",
    "minister",
    "foreign minister",
    "defense secretary",
    "mayor",
    "governor",
    "chief executive",
    "chairman",
    "president",
    "prime minister",
    "senator",
    "police chief",
    "fire chief",
    "economist",
    "analyst",
    "professor",
    "coach",
    "captain",
    "ambassador",
    "envoy",
    "general",
    "commander",
    "judge",
    "prosecutor",
    "health official",
    "union leader",
    "director",
    "researcher",
    "diplomat",
    "deputy chief of mission",
]
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November December".split()
SOURCES = [
    "AP",
    "Reuters",
    "AFP",
    "BBC",
    "CNN",
    "Bloomberg",
    "The Guardian",
    "Al Jazeera",
    "NPR",
    "DW",
    "Kyiv Independent",
    "Nikkei",
    "The Hindu",
    "Le Monde",
    "El Pais",
    "Globe and Mail",
    "ABC News",
]

# Per topic: headline nouns, things counted, and sentence templates. {x} slots are filled by corpus.py.
TOPICS = {
    "conflict": {
        "nouns": "troops soldiers tanks drones missiles artillery refugees civilians shelling ceasefire border".split(),
        "counted": "troops soldiers civilians refugees drones missiles tanks sorties".split(),
        "templates": [
            "{org_cap} said on {day} that about {num} {counted} had been sent to {country}.",
            "About {num} {counted} from the {ordinal} {unit} are going to {country}, {person} said.",
            "Officials in {city} reported that {num} {counted} crossed the border overnight.",
            '"We have reason to believe they are preparing a {adj} operation," {person}, the {role}, said.',
            "The {role} warned that the {noun} near {city} could escalate within days.",
            "Satellite images showed {num} {counted} massed about {small} miles from {city}.",
            "{country} expelled {person}, the {role} at its embassy, in what {org} called an escalatory step.",
            "Talks in {city} ended on {day} without agreement on a {noun} along the {noun2}.",
            "{org_cap} confirmed that {small} {counted} were killed and {num} wounded in the attack on {city}.",
            "The {role} said {country} would send {money} in military aid, including {counted}.",
        ],
    },
    "economy": {
        "nouns": "inflation prices rates wages jobs growth exports tariffs debt budget markets shares".split(),
        "counted": "jobs workers homes loans shares barrels tonnes vehicles".split(),
        "templates": [
            "Inflation in {country} rose to {pct} percent in {month}, the highest since {year}.",
            "{org_cap} raised its benchmark rate by {small} basis points to {pct} percent on {day}.",
            "The economy added {num} {counted} in {month}, beating forecasts of {num2}.",
            "Shares of {org} fell {pct} percent after it cut its forecast for {year}.",
            '"Prices are still too high for most families," said {person}, an {role} at {org}.',
            "The government in {city} plans to spend {money} on {noun} over the next {small} years.",
            "Exports of {counted} to {country} dropped {pct} percent from a year earlier.",
            "Analysts at {org} expect {noun} to slow to {pct} percent in {year}.",
            "The {role} said the deficit would reach {money}, or {pct} percent of output.",
            "Unemployment in {city} fell to {pct} percent, with {num} {counted} added since {month}.",
        ],
    },
    "weather": {
        "nouns": "storm floods rain snow heatwave wildfire drought winds hurricane tornado power outage".split(),
        "counted": "homes residents households customers acres flights schools roads".split(),
        "templates": [
            "A storm cut power to {num} {counted} in {city} on {day}.",
            "Crews restored electricity to most {counted} by {day} evening, {org} said.",
            "{org_cap} warned of more {noun} across {country} through the weekend.",
            "The wildfire near {city} has burned {num} acres and forced {num2} residents to leave.",
            "Temperatures in {city} reached {small} degrees, a record for {month}.",
            '"This is the worst {noun} we have seen in {small} years," the {role} said.',
            "Floodwaters closed {small} roads and {small2} schools in the {city} area.",
            "More than {num} flights were cancelled at {city} airport because of the {noun}.",
            "The {role} declared a state of emergency in {small} counties on {day}.",
            "Rainfall totals of {small} inches were recorded in parts of {country}.",
        ],
    },
    "politics": {
        "nouns": "election vote bill budget reform coalition parliament campaign poll scandal sanctions".split(),
        "counted": "votes seats lawmakers voters signatures delegates".split(),
        "templates": [
            "Parliament in {city} passed the {noun} late on {day} by {num} {counted} to {num2}.",
            "{person}, the {role}, said the government would not back down on the {noun}.",
            "A poll by {org} found {pct} percent of voters support the {noun}.",
            "The {role} resigned on {day} after weeks of pressure over the {noun}.",
            '"The people of {country} deserve better," {person} told reporters in {city}.',
            "{country} imposed sanctions on {small} businesses and {small2} officials on {day}.",
            "The coalition holds {small} of the {num} seats after the {month} election.",
            "{org_cap} said the vote in {country} was free but not fair.",
            "Lawmakers will debate the {noun} again in {month}, {person} said.",
            "The {role} met {person2} in {city} to discuss the {noun} and trade.",
        ],
    },
    "health": {
        "nouns": "vaccine virus outbreak hospital patients cases doctors nurses treatment trial drug".split(),
        "counted": "cases patients deaths doses beds nurses doctors infections".split(),
        "templates": [
            "Health officials in {city} reported {num} new {counted} on {day}.",
            "{org_cap} approved the {noun} for adults over {small}, {person} said.",
            "Hospitals in {country} have {num} {counted} free, the {role} said.",
            "The trial showed the {noun} cut the risk of severe illness by {pct} percent.",
            '"We are asking everyone to stay home if they feel sick," said {person}.',
            "The outbreak has now spread to {small} provinces of {country}, {org} said.",
            "More than {num} {counted} were given in {month}, double the number in {month2}.",
            "The {role} said {money} would go to hire {num2} nurses by {year}.",
            "Researchers at {org} found {pct} percent of patients recovered within {small} days.",
            "Cases in {city} fell for a {ordinal} straight week, {person} said.",
        ],
    },
    "local": {
        "nouns": "bridge school library park road hospital tunnel housing stadium ferry tram".split(),
        "counted": "teachers students homes residents buses apartments beds spaces".split(),
        "templates": [
            "The city council approved a new {noun} on {day}.",
            "Construction will cost {money} and take {small} years, the {role} said.",
            "Mayor {person} said the {noun} opens in {year}.",
            "The district will hire {num} {counted} next year.",
            "Residents of {city} welcomed the decision, though some worried about traffic.",
            "The {noun} has been closed since {month} because of safety concerns.",
            "Class sizes have grown since {year}, {org} said.",
            "The plan adds {num} {counted} near the {noun} by {year}.",
            '"This will change how people get around {city}," {person} said.',
            "A review found the {noun} was {pct} percent over budget.",
        ],
    },
    "crime": {
        "nouns": "investigation arrest trial verdict shooting robbery fraud charges sentence appeal".split(),
        "counted": "suspects victims officers witnesses charges years counts".split(),
        "templates": [
            "Police in {city} arrested {small} {counted} in connection with the {noun} on {day}.",
            "{person} was sentenced to {small} years in prison for {noun}, the {role} said.",
            "The jury found the defendant guilty on {small} {counted} after {small2} days of deliberation.",
            "{org_cap} opened an {noun} into the company's accounts in {month}.",
            '"Justice has been served," {person}, a {role}, said outside the court in {city}.',
            "Prosecutors say the scheme cost investors {money}.",
            "The {noun} left {small} people injured, {org} said.",
            "The {role} said {num} {counted} had been interviewed so far.",
            "An appeal will be heard in {month}, lawyers for {person} said.",
            "Crime in {city} fell {pct} percent in {year}, according to {org}.",
        ],
    },
    "sport": {
        "nouns": "final match season league title tournament transfer record goal race coach".split(),
        "counted": "goals points fans tickets medals games wins runs".split(),
        "templates": [
            "{city} won the {noun} {small}-{small2} on {day} in front of {num} {counted}.",
            "{person} scored twice as {city} beat {city2} to reach the {noun}.",
            "The club signed {person} from {city2} for {money}.",
            '"We played as a team from the first minute," the {role} said.',
            "{country} finished the tournament with {small} {counted}, its best since {year}.",
            "The {noun} in {city} drew a record {num} {counted}.",
            "{person} broke the world record in the {small}00 metres in {city}.",
            "The {role} was fired after {small} straight defeats, {org} said.",
            "Tickets for the {noun} sold out in {small} minutes.",
            "{city} have won {small} of their last {small2} games.",
        ],
    },
    "tech": {
        "nouns": "chips software outage data breach satellite rocket battery network startup app".split(),
        "counted": "users accounts devices satellites servers employees engineers chips".split(),
        "templates": [
            "{org_cap} said a data breach exposed the records of {num} {counted}.",
            "The outage lasted {small} hours and affected {num} {counted} across {country}.",
            "The startup raised {money} to build {noun} in {city}.",
            '"Our systems were not designed for this," {person}, the {role}, said.',
            "The company will cut {num} {counted}, about {pct} percent of its staff.",
            "A rocket carrying {small} {counted} lifted off from {city} on {day}.",
            "Regulators in {country} fined {org} {money} over the {noun}.",
            "Sales of {noun} rose {pct} percent in {month}, {org} said.",
            "The {role} said the new {noun} would ship in {month} {year}.",
            "Engineers in {city} are testing a {noun} that charges in {small} minutes.",
        ],
    },
}
ADJECTIVES = """new major large small former senior key local national regional federal public private rising falling
sudden long short fresh broad strong weak early late recent urgent rare severe heavy light false""".split()
UNITS = ["Airborne Division", "Infantry Brigade", "Armored Division", "Marine Regiment", "Air Wing", "Naval Fleet"]
ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth 82nd 101st 173rd".split()
