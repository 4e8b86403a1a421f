"""Training rows written and labelled by the Vigie team (2026-12-02), French and English.

Why: no corpus in shared/data labels threats in English, French threats are few
(CyberAgressionAdo: a few dozen), and identity attacks are labelled only on tweets
collected with identity keywords, so a model learns "identity word = attack". These
rows teach what the categories mean:

- `threat`: plain threats of violence or harm without swear words (1), and violent
  idioms that threaten nobody ("I'll kill it on stage tonight", "je suis mort de
  rire") (0 in every category).
- `identity_attack`: dehumanising or exclusionary statements about a group for what
  it is (1), and neutral or positive statements about the same groups (0 in every
  category), so the group word alone carries no signal.

Provenance: written for this project by the team from templates below (no text is
copied from a corpus or a website); labels are the template's. Each row's group is
its template, so a split keeps a template's rows together. These rows are used for
training only: never in a validation, test, leave-one-corpus-out or functional set
(tests/moderator/models/test_team_data.py checks that no functional case is one of
them or a near copy).
"""

from __future__ import annotations

from itertools import product

from training.data import NEG_ALL, Row

SOURCE = "team"

# (English plural, French plural) for groups people are attacked for being.
GROUPS: tuple[tuple[str, str], ...] = (
    ("immigrants", "immigrés"),
    ("Muslims", "musulmans"),
    ("Jews", "juifs"),
    ("Black people", "Noirs"),
    ("Arabs", "Arabes"),
    ("gay people", "homosexuels"),
    ("trans people", "personnes trans"),
    ("women", "femmes"),
    ("disabled people", "handicapés"),
    ("Roma", "Roms"),
    ("Asians", "Asiatiques"),
    ("Christians", "chrétiens"),
)

THREATS_EN = (
    "I have your address now, expect me at your door.",
    "Open your mouth once more and see what happens to people like you.",
    "Be careful on your way home from work tonight.",
    "I'm going to hurt you so badly you won't recognise yourself.",
    "One day I'll wait for you outside and you won't walk away.",
    "Say that again and I'll break every bone in your body.",
    "I will burn your house down with you inside it.",
    "Your family isn't safe, remember that.",
    "I'm going to make you pay for this, in person.",
    "Somebody needs to take that man out for good.",
    "I hope you're ready, because I'm going to end you.",
    "Next time I see you, you're dead.",
    "I'll track you down and make you suffer.",
    "Sleep with one eye open from now on.",
    "I will put you in the hospital, I promise.",
    "You won't live to see next week if you upload one more video.",
    "We know your address, we'll pay you a visit.",
    "I'm going to stab you the moment I see you.",
    "Don't be surprised if your car goes up in flames.",
    "I'll beat you until you can't stand.",
)
THREATS_FR = (
    "J'ai ton adresse maintenant, attends-toi à me voir devant ta porte.",
    "Ouvre encore la bouche et tu verras ce qui arrive aux gens comme toi.",
    "Sois prudent sur le chemin du retour ce soir.",
    "Je vais te faire tellement mal que tu ne te reconnaîtras plus.",
    "Un jour je t'attendrai en bas de chez toi et tu ne repartiras pas.",
    "Redis ça et je te casse tous les os.",
    "Je vais brûler ta maison avec toi dedans.",
    "Ta famille n'est pas en sécurité, souviens-toi de ça.",
    "Tu vas me le payer, et en personne.",
    "Il faudrait que quelqu'un le fasse taire pour de bon.",
    "Prépare-toi, je vais t'achever.",
    "La prochaine fois que je te croise, t'es mort.",
    "Je vais te retrouver et te faire souffrir.",
    "Dors avec un œil ouvert à partir de maintenant.",
    "Je vais t'envoyer à l'hôpital, c'est une promesse.",
    "Tu ne verras pas la semaine prochaine si tu mets en ligne une vidéo de plus.",
    "On connaît ton adresse, on va te rendre une petite visite.",
    "Je vais te planter dès que je te vois.",
    "Ne sois pas surpris si ta voiture prend feu.",
    "Je vais te frapper jusqu'à ce que tu ne tiennes plus debout.",
)
IDIOMS_EN = (
    "I'll kill it on stage tonight, wish me luck!",
    "This song absolutely kills me every time.",
    "I'm dying of laughter at this video.",
    "That guitar solo was a killer performance.",
    "My feet are killing me after that hike.",
    "We're going to destroy them in the final on Saturday.",
    "You nailed it, that drop was murder on the dance floor.",
    "I could murder a pizza right now.",
    "That cliffhanger is going to be the death of me.",
    "She absolutely slayed that presentation.",
    "Break a leg at the audition tomorrow!",
    "The new update blew my mind, it's insane.",
    "I'm going to hit the gym and crush leg day.",
    "That boss fight beat me up for hours.",
    "Knock them dead at your interview!",
    "This murder mystery podcast is so well written.",
)
IDIOMS_FR = (
    "Je vais tout déchirer sur scène ce soir, souhaitez-moi bonne chance !",
    "Cette chanson me tue à chaque fois.",
    "Je suis mort de rire devant cette vidéo.",
    "Ce solo de guitare, c'était une tuerie.",
    "Mes pieds me tuent après cette randonnée.",
    "On va les écraser en finale samedi.",
    "Tu m'as achevé avec cette blague.",
    "Je me damnerais pour une bonne pizza là.",
    "Ce cliffhanger va me faire mourir.",
    "Elle a assuré grave pendant sa présentation.",
    "Merde pour ton audition demain, tu vas cartonner !",
    "La mise à jour m'a explosé le cerveau, c'est dingue.",
    "Je vais à la salle défoncer la séance jambes.",
    "Ce boss m'a massacré pendant des heures.",
    "Ce podcast sur les meurtres est super bien raconté.",
    "Le public était à mourir de rire hier soir.",
)
ATTACKS_EN = (
    "{g} are vermin and should be thrown out of the country.",
    "{g} are not real people, they are a disease.",
    "{g} should not be allowed to vote or work here.",
    "Every one of the {g} is a criminal by nature.",
    "{g} are ruining everything, get rid of them.",
    "I wish all {g} would just disappear.",
)
ATTACKS_FR = (
    "Les {g} sont de la vermine, il faut les virer du pays.",
    "Les {g} ne sont pas de vrais humains, c'est une maladie.",
    "Les {g} ne devraient pas avoir le droit de voter ni de travailler ici.",
    "Tous les {g} sont des criminels par nature.",
    "Les {g} détruisent tout, il faut s'en débarrasser.",
    "J'aimerais que tous les {g} disparaissent.",
)
NEUTRAL_EN = (
    "Many {g} live in our neighbourhood and run local shops.",
    "The documentary interviews {g} about their working lives.",
    "Our club welcomes {g} and everyone else who likes chess.",
    "A new report looks at how {g} are represented on television.",
    "{g} have the same rights as every other citizen.",
    "My colleagues include {g}, and the team works well together.",
)
NEUTRAL_FR = (
    "Beaucoup de {g} vivent dans notre quartier et tiennent des commerces.",
    "Le documentaire donne la parole à des {g} sur leur vie au travail.",
    "Notre club accueille les {g} et tous ceux qui aiment les échecs.",
    "Un nouveau rapport étudie la place des {g} à la télévision.",
    "Les {g} ont les mêmes droits que tous les autres citoyens.",
    "Parmi mes collègues il y a des {g}, et l'équipe s'entend bien.",
)


def _capitalised(text: str) -> str:
    return text[0].upper() + text[1:]


def rows() -> list[Row]:
    out: list[Row] = []
    for language, threats, idioms in (("en", THREATS_EN, IDIOMS_EN), ("fr", THREATS_FR, IDIOMS_FR)):
        for i, text in enumerate(threats):
            out.append(
                Row(
                    text,
                    SOURCE,
                    language,
                    {"toxicity": 1, "threat": 1, "identity_attack": 0},
                    f"threat-{language}-{i}",
                )
            )
        for i, text in enumerate(idioms):
            out.append(Row(text, SOURCE, language, dict(NEG_ALL), f"idiom-{language}-{i}"))
    attack = {"toxicity": 1, "identity_attack": 1, "threat": 0}
    for language, templates, labels, kind in (
        ("en", ATTACKS_EN, attack, "attack"),
        ("fr", ATTACKS_FR, attack, "attack"),
        ("en", NEUTRAL_EN, NEG_ALL, "neutral"),
        ("fr", NEUTRAL_FR, NEG_ALL, "neutral"),
    ):
        for (t, template), (en, fr) in product(enumerate(templates), GROUPS):
            text = _capitalised(template.format(g=en if language == "en" else fr))
            out.append(Row(text, SOURCE, language, dict(labels), f"{kind}-{language}-{t}"))
    return out
