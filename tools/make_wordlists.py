#!/usr/bin/env python3
"""Build the codename wordlists sealbox/wordlists/{ru,en}.txt (7776 words each).

A codename is 6 words drawn uniformly from one list: 6 * log2(7776) = 77.5 bits.
The words must be common, easy to spell and harmless if someone sees them.

Build-time only (none of this is a runtime dependency of the project):

    apt-get install wamerican   # /usr/share/dict/american-english, drops English proper names
    python3 -m venv /tmp/wl
    /tmp/wl/bin/pip install wordfreq==3.1.1 pymorphy3==2.0.6 pymorphy3-dicts-ru==2.4.417150.4580142
    /tmp/wl/bin/python tools/make_wordlists.py          # from the repository root

Last run with Python 3.11.7, wordfreq 3.1.1, pymorphy3 2.0.6,
pymorphy3-dicts-ru 2.4.417150.4580142, DAWG2-Python 0.9.0 and Debian
wamerican 2020.12.07-2. Nothing is downloaded at run time: the frequency data
ships inside the wordfreq wheel and the dictionaries inside their packages.
The output is deterministic for these versions.
"""

from __future__ import annotations

import bisect
import itertools
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pymorphy3
import wordfreq

TARGET = 7776  # 6^5: one word per five dice, and what the codename entropy assumes
OUT_DIR = Path(__file__).resolve().parent.parent / "sealbox" / "wordlists"
EN_DICT = Path("/usr/share/dict/american-english")

# pymorphy3 grammemes for proper names, abbreviations and non-standard registers.
# A word is dropped if a reading at least a third as likely as its noun reading carries one.
RU_BAD_TAGS = frozenset("Name Surn Patr Geox Orgn Trad Abbr Infr Slng Arch Obsc Erro Dist Litr Init".split())

# Blocklists: regex fragments searched in the word (Russian after ё→е). A bare root matches
# anywhere, "^" anchors it at the start, "$" at the end; "topic:" labels are skipped.
# They err on the side of excluding: a lost word only widens the frequency window a little.
RU_BLOCK = """
death: смерт мертв умер умир гибел погиб похорон могил гроб кладбищ покойн труп скелет череп траур самоуб суицид казн
палач петл висел ^яд$ ядовит отрав удуш карачун катафалк погост эпитафи панихид убиени тлен скорб сарко ^урна$ сожжен
вскрыти ^морг$ падаль тризн харакири стрихнин цианид агони ^одр$ опухол рицин цикут
violence: убий убит убив насил драк избие побои удар ^бит пытк пыта рабств ^раб$ ^рана$ ранен шрам угроз шантаж террор
теракт похищ заложн жертв разбой кров ^месть$ мщен мучен резня расправ травл унижен синяк оплеух ^порк плаха плетк
хлыст мордобой дыба ^стон$ фингал вражд заклани зверств коррида костолом пощечин вендетт дебош ^залп ^забой
weapons: оруж пистол ружь винтов автомат пулем ^пул патрон гильз гранат ракет бомб ^мина$ снаряд взрыв танк пушк порох
стрел курок прицел ствол обойм штык ^нож кинжал ^меч$ сабл шпаг топор кнут плеть дубин арбалет браунинг дробов базук
гаубиц бластер гексоген иприт булав гарпун ^бич$ винторез карабин картеч кастет клинок кистень кобур миномет мортир
мушкет наган напалм огнемет маузер палаш палиц мессер петард секир самопал стилет тесак томагавк торпед тротил фосген
фугас шрапнел ятаган рапир рикошет приклад мишень лезви скальп удавк дробин
war: войн воен войск арми солдат офицер генерал маршал полк$ батальон ^рота$ отряд фронт окоп казарм дезерт призыв
враг ^бой$ бойн битв сражен атак штурм оборон агресс оккупац плен абвер авиабаз блиндаж блокпост броне боезапас боев
бруствер гарнизон гвардия генштаб гестапо дивизи десант диверс дзот ^дот$ дредноут арсенал ^армата$ вермахт взвод
вербовк блокад баталия бастион засад зачистк контузи осада орудие плацдарм стычк схватк эсминец прапор полигон присяга
спецназ шталаг пехот патрул караул бердыш боез ^боек$ блокгауз полурот пальба кукри ^плац$ рейд рейх лагпункт цейхгауз
нагайк ^трепк танчик ландвер пугач стройбат тачанк траншея эскадр
police: полиц милиц ^мент тюрьм тюрем ^зон зона$ арест задерж допрос ^суд самосуд прокур следств следоват обыск камер
решетк наручн конвой лагер колони ^срок$ приговор преступ уголов кримин ^вор воров краж граб банд мафи каморр шпион
донос стукач охран надзир надзор заключ узник карцер ^этап$ ^зек ^зэк ^урк ^блат ^нары$ параш баланд шмон кандал
^цепь$ штраф ^закон ^прав ^указ границ побег убежищ паспорт ^виза$ эмигр мигра депорт ^ссылк высылк гулаг амнист
изолят досмотр изъяти отсидк общак наезд наколк отмычк ордер фомк тюряг улик угон хищени растрат подкуп подлог поджог
подстав сыск сходк слежк слежен рецидив полиграф лубянк лэнгли застенок каземат окружком кутузк автозак облав притон
психушк рэкет темниц шухер каторг беломор бытовух анонимк острож поимк ^шайка$
politics: власт полит парти ^парт[бк] ^выбор$ президент кремл депутат дума$ ^рада$ митинг протест революц оппозиц
режим диктат санкц пропаганд нацио нацист нацизм фашис фашиз коммун ленин сталин путин совет ^совок госуд ^гос[бдпф]
^родин патриот флаг герб гимн лозунг министр референд украин росси америк чечн донбас крым майдан бандер сепарат
экстрем агит анарх аннекс апартеид горком избирком исполком обком райком ревком облсуд оргбюро кабмин держав импери
ватник бунт бунд маоизм марксизм ^монарх пацифизм лоббизм ландтаг мажилис мандат манифест мятеж коалиц конгресс
комсомол мавзолей отчизн подполь путч расизм риксдаг саботаж самиздат свастик сейм сенат скупщин совдеп совмин сионизм
троцкизм тирани трибунал феминизм халифат хунт хурал царизм цензур юстици крамол радикал деспот евгеник гендер вожд
экоцид консул спецхран петици ^нация$
religion: бог ^бож бож[еи] господ иисус христ аллах ислам мусульм мечет церк храм собор икон молит молеб молел молен
свят священ грех греш ^рай$ ангел демон дьявол ^бес черт сатан крест библ коран ^тора$ евре иуде ^жид$ синагог будд
монах монаст ^поп батюшк пастор пастыр епископ митроп патриарх кардинал раввин имам мулл шариат хидж джихад пасх
рождеств крещ ^секта$ сектант месси пророк апостол ^дух ведьм колдун антиминс аналой акафист адвент безбож геенн
голгоф грааль дхарм деизм атеизм индуизм иордань исповед ^икос ирмос кааба кадил деисус ересь епарх венчан ^веда$
^карма$ мантр нирван апокриф анафем келья кирха ^киот клирос клобук конклав кондак костел литурги менора мидраш
минарет миней месса митра молокан мухаррем намаз нечести нечисть нимб обедн октоих омофор оранта осанна панаги
пантеизм папств паств патерик паранджа ^писание$ покаян покров постриг потир причт пурим пудж радуниц рамадан распяти
реквием религи ^риза ризниц ряса седер седмиц симони синод скиния ^скит склеп скрижал сретени сунна сутана сутра суфи
таинств теолог теософ троиц требник упокой утрен хадж ханука хоругв целибат часовн часослов чадра чакра шаман шиизм
^маца$ невери безвери денниц диабло вертеп ^аум$ аскез аскет декалог джайнизм епитим ермолк кагал кенотаф кошер кутья
литани исихазм пурана самсара суннизм теодице хасид экзархат веданта антифон синтоизм теизм индикт облатк баптизм
^минея фетва омовен убрус газават капищ кристмас пагод ^крипта$ купель ^курия$ ^прах$ приорат притвор псал ^пустынь$
стихарь стихир ^хула$ чалма тюрбан камлани
gay: гей ^гом ^пид ^пед содом извра ^лесб ^транс квир радуг прайд ^парад голуб петух петуш ^опущ пассив актив натурал
^верх$ ^низ$ ^дно$ ^муж аутинг
sex: секс член пенис ^хер хрен залуп мошонк яйц яичк яичник минет ^анал$ анальн анус задн ^зад$ жоп ^очк клитор вагин
влагал матк киск сиськ ^сись титьк ^груд сосок ^соск сосан сосочк порн эрот ^эрос$ оргаз ^орги сперм эякул стояк шишк
^конч ^трах шлюх проститу блуд разврат шалав давалк телк телочк ласк поцел объят ^люб влюбл страст похот интим нагот
трус презерв смазк вазелин ^брак свадьб свидан флирт жених невест супруг бойфренд аборт бордел ^белье$ ^бельишк
вибратор виагр вульв влечени засос бюст гарем ^измен интриж коитус кондом климакс лифчик ^лобок либидо онанизм отсос
петтинг плева потенци простат сношен соити соблазн седалищ стрип сфинктер ^течк фаллос фетиш хентай ширинк эрекци
эскорт ягодиц ^яой$ помолвк приворот пилотк женит овуляц ^вирт$ скотств девств приапизм ляжк ареол ^сися$ мазохизм
нудизм пипк лизани мотня ^чикс$ цыпк выкидыш зоофили инцест тампон ^дыр адюльтер ^фалл
disease: спид ^вич венер сифилис шанкр гонор зараз вирус инфекц гангрен геморро гной ^гни грыж герпес инсульт инфаркт
диаре лейкеми лейкоз лимфом меланом некроз вшив клизм урин уретр
crude: хуй хуе хуя хую хуи пизд ^еб еба ебл ебну ебуч [аоуыъ]еб бля ^сук муд говн дерьм сран срат ссат ссан дроч курв
гандон гондон ^манда$ мандав ^лох ^чмо мраз падл ^гад сволоч ублюд идиот дебил урод кретин тупиц ^дур негр нигер хач
чурк хохол хохл москал кацап даун ^кал$ понос ^моч блев ^сопл рвот письк писю быдл братв брехн ^вон жлоб мурло немчур
мордв отребь отродь отстой погань ^харя$ хайло шваль шпана ^рожа$ ^пук$ какаш ^зиг$
drugs: нарк героин кокаин кокс марихуан конопл гашиш травк косяк шприц ^игл ^доз таблет спирт водк водоч самогон пьян
алкогол бухл ^вино$ винц ^пив абсент аквавит бражк вермут горилк ^грог$ кагор каберне вишневк дайкири ^арак$ коньяк
коньяч кьянти кларет ликер лафит мадер марсал мескалин морфин ^опий$ никотин пойло поллитр портвейн ^портер посошок
перегар текил торчок ^чача$ шнапс шабли эфедрин каннабис кетамин кайф инъекц допинг первак сакэ саперави рислинг
places: ск[иоа]й$ цк[иоа]й$
^сидр$ ^запо[йя] экстази первач ракия винишк ерофеич рюмочн сивух экстаз выпивк курев курилк перекур кураре папирос сигар табач
стероид анисовк метакс пастис
"""
EN_BLOCK = r"""
death: ^kill dead death ^die$ ^dies$ ^died$ ^dying murder corpse ^grave ^coffin funeral ^tomb suicid ^hang ^noose
poison toxic lethal fatal cemeter ^skull skeleton ^bury buried burial ^mourn ^slay ^slain ^execut coroner morgue
deceased casket cremat eulogy gallows ^gor(e|y)$ gruesome ^grie[fv] homicide hospice inquest lynch macabre ^mort
obituar shroud cadaver ^hearse embalm reaper ^doom ^widow morbid ^cancer ^tumor leukemia lymphoma melanoma necro
bereaved epitaph kamikaze
violence: ^gun shotgun handgun rifle pistol bullet ^ammo weapon ^arms?$ ^armed bomb ^blast explo grenade missile
rocket ^knife ^knives ^blade sword dagger ^spear ^shoot ^shot$ ^shots ^war$ ^wars$
^war(fare|rior|head|lord|ring|ship|time) ^army armies military ^milit soldier ^troop ^battl ^combat attack assault
^fight violen abus ^rap(e|ed|es|ing|ists?)$ tortur ^stab$ ^stabb ^wound blood ^bleed terror hostage kidnap abduct
threat ^enem hatred ^hate revenge ^veng aveng victim massacre genocide slaughter strangl ^choke hostile nazi fascis
hitler trigger sniper bayonet cannon artillery ^tanks?$ ^navy marines nuclear nuke militia jihad ^isis ^riot ^brutal
^cruel ^punch ^beat assassin ^arson ^ambush ^invad ^invasion ^hunt anthrax atrocit behead besieg ^sieg ^brawl ^bruis
cannibal carcass carnage crossbow cyanide detonat drown dungeon dynamite enslav enlist garrison holster machete ^mace$
manhunt martial martyr mayhem mutiny ordnance overkill plunder sabotag ^sab(er|re) shrapnel skirmish ^smite ^shank
taser torment turret ^whip ^lash admiral adjutant ensign brigade cavalry regiment platoon squad infantry frigate ^arma
colonel sergeant ^veteran carbine flogging guerilla reprisal salvo tomahawk hazing vendetta revolver punitive ^loot
^batter(ed|ing) betray ^maim intrud ^stabs?$ ^harass
police: police ^polic ^cops?$ ^jail prison ^arrest handcuff crime criminal convict inmate ^guard sheriff trooper
detective custody warrant ^court ^judg ^judic ^trial sentence prosecut ^law lawful legal suspect interrog ^fbi ^cia
^kgb ^spy$ ^spies ^spi(ed|es)$ ^spying ^cage ^gang mafia ^thie ^steal stolen robber ^rob(bed|bing|s)?$ theft fraud
illegal outlaw fugitive felon parole ^bail penal punish verdict guilt confess ^crook ^swat ^raid patrol asylum refugee
^escap passport ^visa migrant immigra deport ^exile smuggl ^border ^cell$ ^cuff ^chains? ^lock(up|down) accus alleg
amnesty captiv captor detain forensic frisk indict intruder ^jur(y|ies|or) offender perjur precinct ransom remand
^seiz snitch ^stalk(ed|er|ing) subpoena trespass tribunal warden dossier ^fle(d|es|eing)$ ^narc ^fuzz$ ^pigs?$
^slammer ^clink ^brib ^burgl hijack cartel ghetto gulag interned larceny extort abet
politics: politic ^elect ^vote ^voter voting ballot ^party partis president senat congress parliament govern minister
regime dictat protest ^rally revolution revolt ^rebel activis propagand communis socialis capitalis democra republic
^liber conservat trump putin biden obama kremlin russia ukrain soviet ^nation patriot ^flag anthem sanction censor
freedom justice ^rights?$ treason traitor ^coup tyran ^empire ^emper ^empress monarch ^tsar ^czar leftist radical
extrem separat ^nato anarch afghan campaign comrade ^femini impeach junta militant mandate uprising dissent petition
pacifis populis caucus centrist embargo embassy consular diplomat hegemony ideology imperial sedition bigot ^klan
racis racia ^arab(s|ic|ian)?$ ^hebrew oriental misogyn eugenic caliph mufti oppress emigra repress swastika ^woke$
^thatcher consul
religion: god ^jesus christ church ^bibl ^pray allah islam muslim moslem mosque quran koran ^jew judais synagog rabbi
torah hindu buddh ^monk ^nuns?$ priest pastor bishop ^pope saint ^holy holiness sacred ^sin$ ^sins ^sinful ^sinn ^hell
heaven angel demon devil satan lucifer ^soul spirit faith worship temple cathedral chapel gospel ^cross$ crucif psalm
easter christmas ramadan halal kosher sharia ^imam mullah ^cult witch pagan ^bless ^amen preach missionar ^divine
^divinit deity messiah ^prophe apostle disciple salvation ^lord bapti catholic protestant orthodox evangel clergy
vatican religio ^ghost ^hymn ^altar ^idol ^karma ^hajj agnostic almighty anointed apostas atheis chaplain chalice
cleric convent covenant deacon ^devot ^devout dharma diocese exorcis friar gentile ^heres heretic liturg mecca minster
monast nativity nirvana occult ordain parish ^pew$ ^piet ^pious pilgrim puritan rapture repent requiem reveren rosary
salaam sanctit savio ^sects?$ sermon shaman shrine synod theolog trinity unholy vicar voodoo ^th(ee|ine|y|ou)$ ^creed
^sabbath ^swami ^evil infern ^abb(ey|ot) coven dioces epistle infidel litany tithe nymph ^thy sanct ascetic conclave
crusade turban polygam anathema pontiff interred ^shalt$ ^saith$
gay: sex ^gay lesbian homo queer ^fag dyke ^trans lgbt ^pride ^rainbow closet ^straight ^bottom ^tops?$ ^versatil
twink ^bears?$ daddy ^boy ^male ^man$ ^men$ ^manly manhood masculin virile ^hustl ^cubs?$ ^otter ^pups?$ leather rubber
^popper ^drags?$ partner spous ^outing$ ^fairy ^queen ^butch ^femme ^camp$ ^fruit ^pansy ^sissy poof tranny ^lisp
^bent$ ^limp ^flam(er|ing|boyant) ^fey$ ^swish ^minc ^ponce shemale ^dike ^out(ed|ing) ^chaps$ ^dandy ^diva ^gender
^homie ^cruis ^parade
sex: husband ^wife ^wives ^bride ^groom marri marital wedding honeymoon ^bridal boyfriend girlfriend ^lov ^belov
darling ^amour ^kiss romanc romantic dating ^date$ flirt ^crush ^hug(s|ged|ging)?$ ^cuddl ^nud(e|es|ity|ist) ^naked
^strip topless porn erotic orgasm ^orgy penis dick cock vagina pussy ^puss cunt ^clit ^boob breast nipple ^tit$ ^tits
titty ^butt$ ^butts buttock ^ass$ ^asses asshole ^arse ^anal$ ^anus rectum ^cum(s|ming)?$ semen sperm ejacul ^erect
^arous horny hooker whore slut prostitut pimp escort brothel condom ^lube dildo vibrat fetish kink bdsm bondage spank
^suck blowjob ^hump ^screw wank ^jerk fondl ^grop molest pedo paedo incest virgin sodom seduc ^lust sexy booty ^hiv$
^aids$ herpes syphilis gonorr ^std$ ^stud(s)?$ ^hunk ^undress ^panties ^pant(y|ies)$ ^thong ^bra$ lingerie ^intima
^passion ^desire ^tempt mistress ^affair ^cheat pervers pervert ^lick ^moan ^shag ^bang ^balls$ ^nuts$ ^knob ^willy
^boner pecker ^shaft ^abort ^babe bosom carnal chastity ^chicks?$ cleavage climax crotch foreplay genital groin hickey
impoten indecent kiddie knicker lewd libido ^mat(ed|es|ing)$ milf naughty ^oral petting prostat pubert pubic sensual
sultry steamy raunch ^moist ^teas(e|ed|er|es|ing)$ ^teen thigh thrust ^bums?$ ^tush ^hooter ^jugs$ knocker wiener
weenie ^johns?$ ^tramp skank harlot hussy gigolo ^madam ^harem ^fanny ^fet(al|us) ^strok ^bust ^cervi ^uter ^ovar
^pelvi womb underage unborn ^vows?$ ^vowed bimbo celibacy cuckold innuendo ^romp saucy smut undies scrotum rectal
^buss$ ^desir eunuch ^racy vixen tampon ^rump$ ^randy potency deviant depraved ^orgi ^adult ^marry ^cougar ^curvy
^kitties ^latex ^leash ^gag sleazy ^uncut urethr ^booti ^chast
crude: fuck shit ^piss ^crap damn bastard bloody bugger twat ^prick douche retard idiot idioc moron stupid ^dumb nigg
negro chink ^spic$ kike wetback ^paki$ gyps ^poop ^turd vomit ^puke ^fart ^urin ^pee(d|ing|s)?$ ^poo$ ^snot sucker
^loser ^scum ^slave ^freak ^dork jackass badass dumbass ^cripple ^midget ^savage redneck hillbilly ^bitch ^coons?$
diarrh fecal feces filth ^fist lunatic psycho spastic imbecile cretin ^twit$ bollock ^slag$ ^slur ^hags?$ ^hoes?$
^bowel ^pox$ obscen profan ^violat ^inbred ^puk ^goon ^thug ^[ivx]+$
drugs: ^drug cocaine ^coke$ ^crack heroin ^meth weed cannabis marijuana ^pot$ ^joint ^dope opium opioid ecstasy
^pills?$ overdose ^dealer ^needle syringe ^inject stoned alcohol vodka whisk ^drunk ^beer booze ^wine liquor ^rum$
^gin$ tequila brandy cocktail ^addict junkie ^stash ^smok tobacco ^cigar nicotin narcot hashish ^hash$ ^acid$ ^speed$
^bong$ bourbon ^brew morphine steroid ^vap(e|es|ing)$ ^dos(e|es|ed|age|ages|ing)$ ^doping detox hungover hookah ^hemp
^keg ^sherry ^scotch ^cider ^lager ^ales?$ ^pints?$ ^tipsy martini fentanyl opiate liqueur ^rehab
"""
# Junk that pymorphy3 knows but a reader would not: abbreviations, units, foreign fragments,
# names it files as common nouns, archaic forms. Found by reading the output.
RU_SKIP = frozenset(
    """
амт шнеллер дайон дрек трок шмак нижник бель гест гини даба дайм кипп кунг кэтч пат сором степс строб тромп фук фуст
цук чинш шанди шпек шпур эпюр алас аком абаз велд вилт вайя понселе хартри хаффман шеллер якобиан максимин амандин
пальмира тошиба аск атта биб биг бодо боло бон борн бэр ваап вади вона гак гарт гэз гэта даб дау дейк дек донг драч
дук ерь жиро зенд зет идо иже икт илем иол каон карч кбит кбайт гбайт мбайт кеб кено кива кипу клов клот косс краз
крор куга кун кут ласа ласина лата лесс линт лоро луаз ляд маар маз мара меря монд муст найл нейл нойз нона нуба нуда
нус нэк олим орс орт паль пейс перм перш пюи рага раек райя рами ранд рант рапа реал рей рен рил рисс роуд рым рух саз
сапр свих силь снап стем таби така таль тека тинг тис тонг туан тук тунг тэк уаз уза умет урд уорд фиск фита фот фукс
хаз хайд хара харт хван хенд хота цуг чейн чий чича чоли чон чох чуха шелл шерл шуст эйч экер экс эрзя юнктад выя зрак
алгол арапахо аристон бальбоа балморал бенгали бентли бьюик вайоминг веджвуд веннер веритас гильберт глезер дальтон
диас жордан кларенс кобург ламберт листер митчелла морин нинон ореанда оттон перри портланд ромэн сауэр таймс тэмми
уимблдон фалькон фарука хоган честер чешир шандор шератон юлиус ариель амелия наглеца оборина лапина лерка матерьял
кофий
""".split()
)
# Function words are not codename material and, being frequent, would block many nouns
# (she → shelf); plus abbreviations and contractions that lost their apostrophe.
EN_SKIP = frozenset(
    """
the and for you that this with was are have not but they his her she him its our their them what which who whom whose
when where why how all any both each few more most other some such than too very can will just should now were been
being has had having does did doing would could might must shall may also into onto upon from over under about above
below after before again then once here there these those only own same off out further because while until against
between through during without within along among around across behind beyond toward towards per yet nor either
neither whether whatever whenever wherever however though although unless since ago yes okay hey hello yeah nope ours
yours hers theirs mine myself yourself himself herself itself ourselves themselves thus hence cannot anybody anyone
anything anyhow anymore anytime anyway anywhere nobody nothing nowhere somebody someone something sometime sometimes
somehow someday somewhat others another already always almost albeit amongst amid besides despite else enough every
everything herein hereby thereby therein thereof thereto thence whence whereas whereby wherein whilst whoever whomever
whatnot unto via ere lest ought shes hes whats gonna wanna gimme lemme dunno yous nite thru cant wont dont isnt aint
avg approx assn calif etc esp hwy gov viz pct nth ftp bpm mph mpg rpm hrs yrs lbs tbsp tsp sos cis eds ems ids ifs ops
refs reps secs vols docs apps mods promos memos specs stats subs dubs pcs xxx iii vii xii amt dds rte atty govt dpi
tbs mads gens dos blvd dept nos
your much many less least ever never beside rather quite indeed perhaps maybe moreover merely amidst inasmuch insofar
nowadays onwards naught till ergo nay aye yup yep huh ugh duh meh wow oops whoa whew ouch gee gosh jeez heck bah hah aha
ahem sans versus latter instead yonder fewer fewest thrice everyone yon geez verily
""".split()
)


def compile_block(spec: str) -> re.Pattern[str]:
    return re.compile("|".join(t for t in spec.split() if not t.endswith(":")))


def ru_candidates(top_words: list[str]) -> Iterator[tuple[int, str]]:
    """Yield (rank, word) for clean Russian nouns, inanimate ones first."""
    morph = pymorphy3.MorphAnalyzer()
    blocked = compile_block(RU_BLOCK)
    for want_animate in (False, True):  # animate nouns only if the inanimate run out
        for rank, word in enumerate(top_words):
            if not re.fullmatch("[а-яё]{3,8}", word):
                continue
            plain = word.replace("ё", "е")  # the login folds ё→е, so the list must too
            if plain in RU_SKIP or blocked.search(plain) or not morph.word_is_known(word):
                continue  # (an unknown word would only get a guessed parse)
            parses = morph.parse(word)
            tag = parses[0].tag.grammemes  # the most likely reading must be the noun
            noun = {"NOUN", "sing", "nomn"} <= tag and ("anim" in tag) == want_animate
            # Adjectives in their dictionary form ("тёплый") are as easy to remember as nouns and
            # let the list stay among common words.
            adjective = {"ADJF", "masc", "sing", "nomn"} <= tag and not want_animate
            if not (noun or adjective):
                continue
            if parses[0].normal_form.replace("ё", "е") != plain:
                continue
            # Only readings nearly as likely as the noun count: "машина" is also a rare surname
            # form, and dropping every such word would leave only rare, hard words.
            if any(p.tag.grammemes & RU_BAD_TAGS for p in parses if p.score >= parses[0].score / 3):
                continue
            yield rank, plain


def en_candidates(top_words: list[str]) -> Iterator[tuple[int, str]]:
    """Yield (rank, word) for lowercase dictionary words (no proper names, no slang)."""
    if not EN_DICT.exists():
        sys.exit(f"{EN_DICT} is missing: apt-get install wamerican")
    # The spelling dictionary keeps names capitalised, so its lowercase entries are
    # the common words; this drops "kevin", "texas", "lol", typos and British spellings.
    common = set(EN_DICT.read_text(encoding="utf-8").split())
    blocked = compile_block(EN_BLOCK)
    for rank, word in enumerate(top_words):
        if re.fullmatch("[a-z]{3,8}", word) and word in common and word not in EN_SKIP and not blocked.search(word):
            yield rank, word


def select(candidates: Iterable[tuple[int, str]], strict: bool) -> tuple[list[str], int, int]:
    """Take words greedily in frequency order, skipping any that clash with one taken.

    strict: no word is a prefix of another (so word boundaries are never ambiguous);
    otherwise the relaxed rule: no two words share their first 5 letters.
    Returns (words, window = top-list entries examined, candidates that passed filters).
    """
    taken: list[str] = []
    sorted_taken: list[str] = []
    keys: set[str] = set()
    window = seen = 0
    for rank, word in candidates:
        seen += 1
        window = max(window, rank + 1)  # animate pass restarts at rank 0
        if strict:
            # An earlier, more frequent word that is a prefix of this one (or equal)...
            if any(word[:k] in keys for k in range(1, len(word) + 1)):
                continue
            # ...or an earlier word that this one is a prefix of.
            i = bisect.bisect_left(sorted_taken, word)
            if i < len(sorted_taken) and sorted_taken[i].startswith(word):
                continue
            keys.add(word)
            bisect.insort(sorted_taken, word)
        else:
            if word[:5] in keys:
                continue
            keys.add(word[:5])
        taken.append(word)
        if len(taken) == TARGET:
            break
    return taken, window, seen


def check(words: list[str], strict: bool) -> None:
    """Re-verify the output independently of select(); raise rather than assert (-O)."""
    if len(words) != TARGET or len(set(words)) != TARGET:
        raise SystemExit(f"expected {TARGET} distinct words, got {len(set(words))}")
    ordered = sorted(words)
    for a, b in itertools.pairwise(ordered):  # in sorted order a prefix sits right before
        if b.startswith(a) if strict else a[:5] == b[:5]:
            raise SystemExit(f"prefix clash: {a} / {b}")


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for lang, make in (("ru", ru_candidates), ("en", en_candidates)):
        top_words = wordfreq.top_n_list(lang, 10**6)  # the whole shipped list
        for strict in (True, False):  # prefer the strict rule, relax only if it falls short
            # The stream stops at the TARGET-th accepted word, so the frequency window is
            # widened exactly as far as needed and no further.
            words, window, seen = select(make(top_words), strict)
            if len(words) == TARGET:
                break
        else:
            sys.exit(f"{lang}: only {len(words)} words even with the relaxed rule")
        check(words, strict)
        text = "".join(f"{w}\n" for w in sorted(words))
        (OUT_DIR / f"{lang}.txt").write_text(text, encoding="utf-8", newline="\n")
        rule = "no word is a prefix of another" if strict else "no shared first 5 letters"
        print(
            f"{lang}: {TARGET} words; window = top {window} of {len(top_words)} "
            f"wordfreq entries; {seen} passed the filters; rule: {rule}"
        )


if __name__ == "__main__":
    main()
