"""Deterministic demo data: a boutique that sells over WhatsApp, at any size.

Why: the inbox, search and sync have to be judged (and shown) on a workspace that looks like a real one – ten
thousand customers from a dozen countries, half a million messages in their languages and scripts, a few very
long chats and many short ones, unread badges, deals, sales and notes – not on a handful of rows. The same seed
gives the same people, phones, texts, counts and times (relative to a fixed base date, never "now"), so
benchmarks and screenshots are repeatable; only the UUIDv7 ids differ between runs.

    python -m app.store.seed --chats 10000 --messages 500000 --seed 1 [--home DIR] [--passphrase-env VAR]
                             [--name NAME] [--base-date YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import getpass
import os
import random
import sys
import time
import unicodedata
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import keyring
from pydantic import BaseModel

from app.core.errors import ParleyError
from app.core.ids import new_id, to_ms
from app.core.models import Chat, Company, Contact, Deal, Lifecycle, Message, Note, Product, Sale, SaleItem
from app.store.keyring_vault import KeyringVault
from app.store.paths import resolve_home
from app.store.store import Store
from app.store.workspaces import Workspaces

BASE = datetime(2026, 1, 1, tzinfo=UTC)  # the demo's "now": every time is placed before it
BATCH = 20_000  # messages per transaction: fewer commits (each ends in a WAL checkpoint) without spilling the cache
_MIN = 60_000
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR
Progress = Callable[[str, int, int], None]


class SeedReport(BaseModel):
    contacts: int
    chats: int
    messages: int
    notes: int
    deals: int
    sales: int
    products: int
    message_seconds: float  # wall time spent inserting messages only (not generating them)
    total_seconds: float


# ---- word lists ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Culture:
    lang: str
    cc: str  # country calling code
    prefixes: tuple[str, ...]  # mobile prefixes of the national number
    digits: int  # length of the national number
    first: tuple[tuple[str, str], ...]  # (Latin, native script)
    last: tuple[tuple[str, str], ...]
    cities: tuple[str, ...]
    company: str
    mail: str
    weight: int


def _names(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((w.split("/")[0], w.split("/")[-1]) for w in text.split())


def _culture(
    lang: str,
    cc: str,
    prefixes: str,
    digits: int,
    first: str,
    last: str,
    cities: str,
    company: str,
    mail: str,
    weight: int,
) -> _Culture:
    return _Culture(
        lang, cc, tuple(prefixes.split()), digits, _names(first), _names(last), tuple(cities.split("|")), company,
        mail, weight,
    )  # fmt: skip


_CULTURES = (
    _culture("en", "1", "212 305 312 415 512 617 646 713 917", 10,
             "James Mary Michael Jennifer David Jessica Chris Ashley Brian Emily Kevin Sarah Tyler Megan",
             "Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor Anderson Thomas Moore",
             "Austin|Miami|Chicago|Houston|Phoenix|Denver", "{l} Trading LLC", "yahoo.com", 12),
    _culture("en", "44", "7400 7500 7700 7800 7900 7911 7960", 10,
             "Oliver Amelia George Isla Harry Ava Jack Emily Charlie Sophie Thomas Grace",
             "Smith Jones Taylor Brown Williams Wilson Evans Thomas Roberts Walker Wright Hughes",
             "London|Leeds|Bristol|Manchester|Glasgow", "{l} & Sons Ltd", "btinternet.com", 5),
    _culture("es", "52", "55 33 81 222 442", 10,
             "José María Juan Guadalupe Luis Sofía Carlos Fernanda Miguel Valeria Jorge Ximena",
             "Hernández García Martínez López González Rodríguez Pérez Sánchez Ramírez Flores Torres Cruz",
             "Ciudad de México|Monterrey|Guadalajara|Puebla|Mérida", "Comercializadora {l}", "hotmail.com", 10),
    _culture("es", "57", "300 301 310 311 312 315 320", 10,
             "Andrés Camila Santiago Daniela Sebastián Laura Mateo Valentina Julián Paula",
             "Rodríguez Gómez Martínez Díaz Vargas Moreno Castro Rojas Ortiz Muñoz",
             "Bogotá|Medellín|Cali|Barranquilla", "Distribuciones {l} S.A.S.", "hotmail.com", 5),
    _culture("pt", "55", "119 219 319 419 519 619 719 819", 11,
             "João Ana Pedro Maria Lucas Juliana Gabriel Fernanda Rafael Camila Thiago Beatriz Luíza",
             "Silva Santos Oliveira Souza Lima Pereira Costa Ferreira Almeida Carvalho Gomes Ribeiro",
             "São Paulo|Rio de Janeiro|Belo Horizonte|Curitiba|Recife", "{l} Modas Ltda", "uol.com.br", 12),
    _culture("ar", "20", "10 11 12 15", 10,
             "Ahmed/أحمد Mohamed/محمد Fatma/فاطمة Mahmoud/محمود Nour/نور Omar/عمر Mariam/مريم Youssef/يوسف Heba/هبة",
             "Hassan/حسن Ibrahim/إبراهيم Mahmoud/محمود Ali/علي Saad/سعد Mostafa/مصطفى Fathy/فتحي Salem/سالم",
             "القاهرة|الإسكندرية|الجيزة|المنصورة", "{l} Trading Co.", "yahoo.com", 5),
    _culture("ar", "966", "50 53 54 55 56 59", 9,
             "Abdullah/عبدالله Faisal/فيصل Noura/نورة Khalid/خالد Sara/سارة Turki/تركي Reem/ريم Saud/سعود Lama/لمى",
             "Al-Otaibi/العتيبي Al-Qahtani/القحطاني Al-Harbi/الحربي Al-Ghamdi/الغامدي Al-Shehri/الشهري",
             "الرياض|جدة|الدمام|مكة", "مؤسسة {l} للتجارة", "outlook.sa", 4),
    _culture("hi", "91", "98 99 97 96 93 90 88 70 79", 10,
             "Aarav/आरव Priya/प्रिया Rahul/राहुल Ananya/अनन्या Rohan/रोहन Neha/नेहा Vikram/विक्रम Pooja/पूजा Arjun/अर्जुन",
             "Sharma/शर्मा Verma/वर्मा Patel/पटेल Gupta/गुप्ता Singh/सिंह Kumar/कुमार Reddy/रेड्डी Mehta/मेहता Joshi/जोशी",
             "Mumbai|Delhi|Pune|Jaipur|Bengaluru", "{l} Textiles Pvt Ltd", "rediffmail.com", 12),
    _culture("id", "62", "811 812 813 821 822 852 857 878", 11,
             "Budi Siti Agus Dewi Rizky Putri Andi Ayu Fajar Rina Dimas Intan",
             "Santoso Wijaya Saputra Hidayat Pratama Nugroho Lestari Kurniawan Susanto Halim",
             "Jakarta|Surabaya|Bandung|Medan|Yogyakarta", "Toko {l} Jaya", "yahoo.co.id", 10),
    _culture("fr", "33", "6 7", 9,
             "Lucas Emma Hugo Chloé Louis Léa Gabriel Manon Jules Camille Arthur Inès",
             "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Lefèvre Girard",
             "Paris|Lyon|Marseille|Toulouse|Lille", "Maison {l}", "orange.fr", 5),
    _culture("de", "49", "151 152 160 162 170 171 176 177", 11,
             "Lukas Anna Felix Lena Jonas Marie Leon Sophie Paul Hannah Maximilian Jürgen",
             "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Krüger Wolf",
             "Berlin|Hamburg|München|Köln|Leipzig", "{l} Mode GmbH", "gmx.de", 5),
    _culture("tr", "90", "530 532 533 541 542 505 555", 10,
             "Mehmet Ayşe Mustafa Fatma Ahmet Zeynep Emre Elif Burak Esra Can Şeyma",
             "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan",
             "İstanbul|Ankara|İzmir|Bursa|Antalya", "{l} Tekstil Ltd. Şti.", "hotmail.com", 5),
    _culture("ru", "7", "903 905 915 916 925 926 985 999", 10,
             "Alexei/Алексей Olga/Ольга Dmitry/Дмитрий Natalia/Наталья Sergei/Сергей Elena/Елена Ivan/Иван Anna/Анна",
             "Ivanov/Иванов Smirnov/Смирнов Kuznetsov/Кузнецов Popov/Попов Volkov/Волков Sokolov/Соколов",
             "Москва|Санкт-Петербург|Казань|Новосибирск|Екатеринбург", "ООО «{l}»", "yandex.ru", 4),
)  # fmt: skip
_CULTURE_WEIGHTS = [c.weight for c in _CULTURES]

# Per language, two lines per topic (greet, product, price, delivery, payment, thanks): what customers write,
# then what staff answer; " | " separates alternatives. {n} first name, {p} product, {price}, {q} quantity,
# {city}, {days}, {ref} order number, {shop} business name.
_TOPICS = 6
_RAW_LINES = {
    "en": """
Hi! Are you open today? | Hello 👋 | Good morning, is this {shop}?
Hi {n}! Yes, we're open until 8pm 😊 | Hello {n}, welcome to {shop}! How can I help?
Do you still have the {p}? | Can you send me photos of the {p} please | Do you have the {p} in another colour?
Yes, the {p} is in stock ✅ | Sure, here are photos of the {p} 📸
How much is the {p}? | What's the price for {q} pieces? | Any discount if I buy {q}?
The {p} is {price} | For {q} pieces we can do 10% off 🙌
Do you deliver to {city}? | How long does delivery take? | When will my order {ref} arrive?
Yes, delivery to {city} takes {days} days 🚚 | Your order {ref} is on its way!
Can I pay by card? | Do you accept bank transfer? | Can I use a gift card? | Payment sent, please check 🙏
We accept card, transfer and cash on delivery | Payment received, thank you {n}! Order confirmed ✅
Thank you so much! | Got it, thanks 👍 | Received the {p}, love it ❤️
You're welcome {n}! 😊 | Thanks for shopping with us 🙏
""",
    "es": """
Hola, buenas tardes | Hola 👋 ¿están abiertos hoy? | Buen día
¡Hola {n}! Sí, ¿en qué te puedo ayudar? | Bienvenida a {shop} 😊 ¿Qué buscas?
¿Todavía tienen el {p}? | ¿Me pasas fotos del {p}? | ¿Tienen el {p} en otro color?
Sí, el {p} está disponible ✅ | Te mando fotos del {p} 📸
¿Cuánto cuesta el {p}? | ¿Precio por {q} piezas? | ¿Hay descuento si llevo {q}?
El {p} cuesta {price} | Por {q} piezas te dejo 10% de descuento 🙌
¿Hacen envíos a {city}? | ¿Cuánto tarda el envío? | ¿Cuándo llega mi pedido {ref}?
Sí, a {city} tarda {days} días 🚚 | Tu pedido {ref} ya va en camino
¿Aceptan tarjeta? | ¿Puedo pagar por transferencia? | Ya hice el pago, ¿me confirmas? 🙏
Aceptamos tarjeta, transferencia y pago contra entrega | Pago recibido, ¡gracias {n}! Pedido confirmado ✅
¡Muchas gracias! | Perfecto, gracias 👍 | Ya me llegó el {p}, ¡me encantó! ❤️
¡Con gusto {n}! 😊 | Gracias por tu compra 🙏
""",
    "pt": """
Oi, boa tarde! | Olá 👋 vocês estão abertos hoje? | Bom dia
Oi {n}! Sim, como posso ajudar? | Olá {n}, bem-vinda à {shop} 😊
Ainda tem o {p}? | Pode me mandar fotos do {p}? | Tem o {p} em outra cor?
Tem sim, o {p} está disponível ✅ | Já te mando as fotos do {p} 📸
Quanto custa o {p}? | Qual o valor de {q} peças? | Faz desconto se eu levar {q}?
O {p} sai por {price} | Levando {q} peças faço 10% de desconto 🙌
Vocês entregam em {city}? | Quanto tempo demora a entrega? | Meu pedido {ref} já foi enviado?
Entregamos sim, para {city} leva {days} dias 🚚 | Seu pedido {ref} já está a caminho
Aceita cartão? | Posso pagar no Pix? | Fiz o Pix, pode conferir? 🙏
Aceitamos Pix, cartão e boleto | Pagamento recebido, obrigada {n}! Pedido confirmado ✅
Muito obrigada! | Show, valeu 👍 | Chegou o {p}, amei! ❤️
Por nada {n}! 😊 | Obrigada pela compra 🙏
""",
    "ar": """
السلام عليكم | مرحبا 👋 هل المحل مفتوح اليوم؟ | صباح الخير
وعليكم السلام {n}! كيف أقدر أساعدك؟ | أهلاً وسهلاً بك في {shop} 😊
هل {p} متوفر؟ | ممكن صور {p} لو سمحت | هل يوجد {p} بلون آخر؟
نعم، {p} متوفر ✅ | أرسل لك صور {p} الآن 📸
بكم {p}؟ | كم سعر {q} قطع؟ | فيه خصم إذا أخذت {q}؟
سعر {p} هو {price} | على {q} قطع نعطيك خصم 10% 🙌
هل توصلون إلى {city}؟ | كم يوم التوصيل؟ | متى يوصل طلبي {ref}؟
نعم، التوصيل إلى {city} خلال {days} أيام 🚚 | طلبك {ref} في الطريق إليك
هل الدفع عند الاستلام متاح؟ | ممكن أدفع بالبطاقة؟ | تم التحويل، الرجاء التأكيد 🙏
نعم، نقبل البطاقة والتحويل والدفع عند الاستلام | وصلنا المبلغ، شكراً {n}! تم تأكيد الطلب ✅
شكراً جزيلاً | تمام، شكراً 👍 | وصلني {p}، رائع ❤️
العفو {n}! 😊 | شكراً لتسوقك معنا 🙏
""",
    "hi": """
Namaste 🙏 | नमस्ते, क्या दुकान आज खुली है? | Hello bhaiya
नमस्ते {n} जी! बताइए, क्या चाहिए? | Hello {n}, {shop} mein aapka swagat hai 😊
{p} abhi available hai? | {p} की फोटो भेजिए | {p} dusre color mein hai kya?
जी हाँ, {p} स्टॉक में है ✅ | {p} ki photos bhej rahe hain 📸
{p} kitne ka hai? | {q} पीस का क्या रेट है? | {q} lene par discount milega?
{p} की कीमत {price} है | {q} pieces par 10% discount de denge 🙌
{city} mein delivery hoti hai? | डिलीवरी में कितने दिन लगेंगे? | Mera order {ref} kab aayega?
हाँ, {city} में {days} दिन में डिलीवरी हो जाएगी 🚚 | Aapka order {ref} dispatch ho gaya hai
UPI se payment kar sakte hain? | क्या COD है? | Payment kar diya, check kar lijiye 🙏
UPI, card aur COD sab chalega | भुगतान मिल गया, धन्यवाद {n}! ऑर्डर कन्फर्म ✅
Thank you ji | धन्यवाद 👍 | {p} mil gaya, bahut accha hai ❤️
Aapka swagat hai {n} ji 😊 | हमसे खरीदारी के लिए धन्यवाद 🙏
""",
    "id": """
Halo kak, selamat siang | Permisi kak 👋 tokonya buka hari ini? | Pagi kak
Halo kak {n}! Ada yang bisa dibantu? | Selamat datang di {shop} 😊
Kak, {p} masih ada? | Boleh minta foto {p}? | {p} ada warna lain kak?
Masih ready kak, {p} ✅ | Ini foto {p} ya kak 📸
{p} harganya berapa kak? | Kalau ambil {q} pcs berapa? | Bisa kurang kalau beli {q}?
Harga {p} {price} kak | Untuk {q} pcs bisa diskon 10% kak 🙌
Bisa kirim ke {city}? | Pengiriman berapa lama kak? | Pesanan {ref} sudah dikirim belum?
Bisa kak, ke {city} sekitar {days} hari 🚚 | Pesanan {ref} sudah dalam perjalanan ya kak
Bisa bayar COD? | Transfer ke rekening mana kak? | Sudah transfer ya kak, mohon dicek 🙏
Bisa transfer, e-wallet atau COD kak | Pembayaran sudah diterima, terima kasih kak {n}! ✅
Makasih banyak kak! | Oke kak, terima kasih 👍 | {p} sudah sampai, bagus banget ❤️
Sama-sama kak {n} 😊 | Terima kasih sudah belanja di {shop} 🙏
""",
    "fr": """
Bonjour ! | Bonsoir, vous êtes ouverts aujourd'hui ? | Salut 👋
Bonjour {n} ! Comment puis-je vous aider ? | Bienvenue chez {shop} 😊
Vous avez encore le {p} ? | Vous pouvez m'envoyer des photos du {p} ? | Le {p} existe en d'autres couleurs ?
Oui, le {p} est disponible ✅ | Je vous envoie les photos du {p} 📸
Combien coûte le {p} ? | Quel prix pour {q} pièces ? | Une remise si j'en prends {q} ?
Le {p} est à {price} | Pour {q} pièces on vous fait -10 % 🙌
Vous livrez à {city} ? | Combien de temps pour la livraison ? | Où en est ma commande {ref} ?
Oui, livraison à {city} en {days} jours 🚚 | Votre commande {ref} est en route
Je peux payer par carte ? | Vous acceptez le virement ? | Paiement envoyé, vous pouvez vérifier ? 🙏
Carte, virement ou paiement à la livraison | Paiement reçu, merci {n} ! Commande confirmée ✅
Merci beaucoup ! | Parfait, merci 👍 | J'ai reçu le {p}, il est magnifique ❤️
Avec plaisir {n} ! 😊 | Merci pour votre achat 🙏
""",
    "de": """
Hallo! | Guten Tag, haben Sie heute geöffnet? | Moin 👋
Hallo {n}! Wie kann ich helfen? | Willkommen bei {shop} 😊
Haben Sie den {p} noch? | Können Sie mir Fotos vom {p} schicken? | Gibt es den {p} in Größe M?
Ja, der {p} ist vorrätig ✅ | Ich schicke Ihnen gleich Fotos vom {p} 📸
Was kostet der {p}? | Was kosten {q} Stück? | Gibt es Rabatt bei {q} Stück?
Der {p} kostet {price} | Bei {q} Stück geben wir 10 % Rabatt 🙌
Liefern Sie nach {city}? | Wie lange dauert der Versand? | Wann kommt meine Bestellung {ref}?
Ja, nach {city} dauert es {days} Tage 🚚 | Ihre Bestellung {ref} ist unterwegs
Kann ich mit Karte zahlen? | Geht auch PayPal? | Überweisung ist raus, bitte kurz prüfen 🙏
Karte, PayPal und Überweisung sind möglich | Zahlung erhalten, danke {n}! Bestellung bestätigt ✅
Vielen Dank! | Super, danke 👍 | Der {p} ist angekommen, gefällt mir sehr ❤️
Gern geschehen, {n}! 😊 | Danke für Ihren Einkauf 🙏
""",
    "tr": """
Merhaba | İyi günler, bugün açık mısınız? | Selam 👋
Merhaba {n}! Nasıl yardımcı olabilirim? | {shop} mağazasına hoş geldiniz 😊
{p} hâlâ var mı? | {p} fotoğraflarını atar mısınız? | {p} başka renk var mı?
Evet, {p} stokta ✅ | {p} fotoğraflarını hemen gönderiyorum 📸
{p} ne kadar? | {q} adet için fiyat nedir? | {q} tane alırsam indirim olur mu?
{p} fiyatı {price} | {q} adet için %10 indirim yapabiliriz 🙌
{city} için kargo var mı? | Teslimat kaç gün sürer? | {ref} numaralı siparişim ne zaman gelir?
Evet, {city} için teslimat {days} gün 🚚 | {ref} numaralı siparişiniz yolda
Kartla ödeyebilir miyim? | Kapıda ödeme var mı? | Havaleyi yaptım, kontrol eder misiniz? 🙏
Kart, havale ve kapıda ödeme mümkün | Ödeme alındı, teşekkürler {n}! Sipariş onaylandı ✅
Çok teşekkürler! | Tamamdır, sağ olun 👍 | {p} elime ulaştı, çok güzel ❤️
Rica ederiz {n}! 😊 | Bizi tercih ettiğiniz için teşekkürler 🙏
""",
    "ru": """
Здравствуйте! | Добрый день, вы сегодня работаете? | Привет 👋
Здравствуйте, {n}! Чем могу помочь? | Добро пожаловать в {shop} 😊
{p} ещё есть в наличии? | Можете прислать фото {p}? | Есть {p} другого цвета?
Да, {p} в наличии ✅ | Сейчас пришлю фото {p} 📸
Сколько стоит {p}? | Какая цена за {q} шт.? | Будет скидка, если возьму {q}?
{p} стоит {price} | При заказе {q} шт. скидка 10% 🙌
Доставка в город {city} есть? | Сколько идёт доставка? | Когда придёт мой заказ {ref}?
Да, доставка в город {city} занимает {days} дня 🚚 | Ваш заказ {ref} уже в пути
Можно оплатить картой? | Можно переводом? | Оплатила, проверьте, пожалуйста 🙏
Принимаем карту, перевод и оплату при получении | Оплата получена, спасибо, {n}! Заказ подтверждён ✅
Большое спасибо! | Отлично, спасибо 👍 | Получила {p}, очень нравится ❤️
Пожалуйста, {n}! 😊 | Спасибо за покупку 🙏
""",
}
_LINES: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
for _lang, _block in _RAW_LINES.items():
    _rows = [tuple(row.split(" | ")) for row in _block.strip().splitlines()]
    assert len(_rows) == 2 * _TOPICS, _lang
    _LINES[_lang] = [(_rows[2 * t], _rows[2 * t + 1]) for t in range(_TOPICS)]

_PRODUCTS = (  # name, price in minor units, stock tracked, description
    ("Linen shirt", 3490, True, "Breathable linen, relaxed fit"), ("Floral maxi dress", 5990, True, "Viscose, lined"),
    ("Denim jacket", 7900, True, "Stone-washed, unisex"), ("Leather sandals", 4500, True, "Hand-stitched sole"),
    ("Silk scarf", 2490, True, "90 x 90 cm, hand-rolled hem"), ("Straw tote bag", 3200, True, "Woven palm leaf"),
    ("Gold hoop earrings", 1990, True, "18k gold plated"), ("Cotton kaftan", 4290, True, "One size, block print"),
    ("Wide-leg trousers", 4990, True, "High waist, linen blend"), ("Knit cardigan", 5490, True, "Merino wool"),
    ("Canvas sneakers", 3990, True, "Sizes 36-45"), ("Beaded bracelet set", 1490, True, "Set of three"),
    ("Polarised sunglasses", 2890, True, "UV400, with case"), ("Gift card", 5000, False, "Valid for one year"),
    ("Tailoring service", 1500, False, "Hemming and fitting, per piece"),
)  # fmt: skip
_STAFF = (("Priya Shah", "priya"), ("Diego Ramírez", "diego"), ("Lina Haddad", "lina"))
_STAGES = (("New lead", 10, "open"), ("Qualified", 30, "open"), ("Proposal", 60, "open"),
           ("Negotiation", 80, "open"), ("Won", 100, "won"), ("Lost", 0, "lost"))  # fmt: skip
_TAGS = (("VIP", "#f1c40f"), ("Wholesale", "#8e44ad"), ("New customer", "#27ae60"), ("Follow up", "#e67e22"),
         ("Complaint", "#c0392b"), ("Instagram", "#e84393"))  # fmt: skip
_QUICK_REPLIES = (
    ("/hi", "Greeting", "Hello! 👋 Thanks for writing to {shop}. How can I help you today?"),
    ("/hours", "Opening hours", "We're open Monday to Saturday, 10am–8pm."),
    ("/pay", "Payment options", "You can pay by card, bank transfer or cash on delivery."),
    ("/ship", "Delivery times", "Delivery takes 2–4 working days; you'll get a tracking link when it ships 🚚"),
    ("/size", "Size guide", "Our sizes: S 36–38, M 40–42, L 44–46. Tell me your usual size and I'll check stock."),
    ("/thanks", "Thank you", "Thank you for your order! 🙏 We'll let you know when it's on its way."),
)
_NOTES = (
    "Prefers delivery after 6pm; call before coming.", "Asked for wholesale prices on the {p}. Follow up next week.",
    "Size M in tops, 38 in shoes.", "Paid late once – ask for the transfer before shipping.",
    "Loyal customer: send the new collection photos first.", "Wants the {p} in another colour when it's back.",
    "Complained about a late delivery to {city}; offered 10% off the next order.",
    "Buying gifts for a wedding, budget around {price}.",
)  # fmt: skip
_NAME_EMOJI = ("🌸", "✨", "💕", "🌻", "⚽", "🙏")
_SALE_NOTES = ("", "", "", "Paid by card", "Paid by transfer", "Cash on delivery")


# ---- helpers ------------------------------------------------------------------------------------------------
def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("ı", "i")).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _money(minor: int, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    return f"{symbol}{minor / 100:.2f}" if symbol else f"{minor / 100:.2f} {currency}"


def _allocate(total: int, weights: list[float]) -> list[int]:
    """``total`` split over the weights (largest remainder), each share at least 1."""
    extra = total - len(weights)
    scale = extra / sum(weights)
    raw = [w * scale for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: shares[i] - raw[i])
    for i in by_remainder[: extra - sum(shares)]:
        shares[i] += 1
    return [s + 1 for s in shares]


def _timeline(rng: random.Random, n: int, end_ms: int, earliest_ms: int) -> tuple[array[int], bytearray]:
    """Send times and flags (1: inbound, 2: opens a conversation) of a chat's ``n`` messages, ending at ``end_ms``.

    Conversations come in sessions days apart, mostly opened by the customer; inside one, each side writes a
    run of one to a few messages, seconds apart, and the other answers after a delay.
    """
    offsets = [0] * n
    flags = bytearray(n)
    inbound = rng.random() < 0.85
    run_left = 1 + int(rng.expovariate(1.2))
    session_left = 3 + int(rng.random() * 10)
    t = 0
    for i in range(n):
        opens = i == 0
        if i:
            session_left -= 1
            if session_left <= 0:
                opens = True
                t += _HOUR + int(rng.expovariate(1.0) * 3 * _DAY)
                session_left = 3 + int(rng.random() * 10)
                inbound = rng.random() < 0.8
                run_left = 1 + int(rng.expovariate(1.2 if inbound else 2.0))
            elif run_left <= 0:
                inbound = not inbound
                run_left = 1 + int(rng.expovariate(1.2 if inbound else 2.0))
                t += 20_000 + int(rng.random() * (40 * _MIN if inbound else 25 * _MIN))
            else:
                t += 3_000 + int(rng.random() * 80_000)
        offsets[i] = t
        flags[i] = inbound | (opens << 1)
        run_left -= 1
    scale = min(1.0, (end_ms - earliest_ms) / t) if t else 1.0
    start = end_ms - int(t * scale)
    return array("q", (start + int(o * scale) for o in offsets)), flags


@dataclass
class _Person:
    first: str
    name: str
    phone: str
    wa_id: str
    email: str | None
    city: str
    lang: str
    company: str


class _Seeder:
    def __init__(self, store: Store, rng: random.Random, base: datetime, progress: Progress) -> None:
        self.s, self.rng, self.progress = store, rng, progress
        self.base_ms = to_ms(base)
        org = store.orgs.get(store.org_id)
        self.shop, self.currency = org.name, org.default_currency

    def new_at(self, ms: int, **fields: Any) -> dict[str, Any]:
        return {"created_at": _dt(ms), "updated_at": _dt(ms), **fields}

    # ---- what every workspace needs ----------------------------------------------------------------------------
    def setup(self) -> None:
        s, rng = self.s, self.rng
        early = self.base_ms - 700 * _DAY
        users = s.users.find_all()
        domain = (_ascii(self.shop) or "shop") + ".example"
        owner = next((u for u in users if u.role == "owner"), users[0] if users else None)
        if owner is None:
            owner = s.users.create(**self.new_at(early, name="Alex Morgan", email=f"alex@{domain}", role="owner"))
        names = {u.name for u in users}
        staff = [u for u in users if u.id != owner.id] + [
            s.users.create(**self.new_at(early, name=name, email=f"{login}@{domain}", role="staff"))
            for name, login in _STAFF
            if name not in names
        ]
        self.owner_id = owner.id
        self.agents = [owner.id] + [u.id for u in staff]
        self.agent_weights = [1] + [3] * len(staff)
        pipelines = s.pipelines.find_all(order_by="position")
        pipeline = next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None)
        if pipeline is None:
            pipeline = s.pipelines.create(**self.new_at(early, name="Sales", is_default=True))
        self.pipeline_id = pipeline.id
        self.stages = s.pipeline_stages.find_all({"pipeline_id": pipeline.id}, order_by="position")
        if not self.stages:
            self.stages = [
                s.pipeline_stages.create(**self.new_at(early, pipeline_id=pipeline.id, name=name, position=i,
                                                       probability=prob, stage_kind=kind))
                for i, (name, prob, kind) in enumerate(_STAGES)
            ]  # fmt: skip
        have = {t.name for t in s.tags.find_all()}
        s.tags.add_many(s.tags.new(**self.new_at(early, name=n, color=c)) for n, c in _TAGS if n not in have)
        if not s.quick_replies.count():
            s.quick_replies.add_many(
                s.quick_replies.new(**self.new_at(early, shortcut=k, title=t, body=b.format(shop=self.shop)))
                for k, t, b in _QUICK_REPLIES
            )
        self.products = [p for p in s.products.find_all({"active": True}) if p.currency == self.currency]
        self.new_products = not self.products
        if self.new_products:
            self.products = [
                s.products.new(**self.new_at(early + 30 * _DAY, name=name, sku=f"DB-{i + 1:03d}", description=d,
                                             price_minor=price, currency=self.currency,
                                             stock=10 + rng.randrange(60) if tracked else None))
                for i, (name, price, tracked, d) in enumerate(_PRODUCTS)
            ]  # fmt: skip

    # ---- people and their timelines ----------------------------------------------------------------------------
    def person(self, phones: set[str]) -> _Person:
        rng = self.rng
        c = rng.choices(_CULTURES, weights=_CULTURE_WEIGHTS)[0]
        script = int(rng.random() < 0.5)
        first_pair, last_pair = rng.choice(c.first), rng.choice(c.last)
        first, last = first_pair[script], last_pair[script]
        if c.lang == "ru" and first_pair[0].endswith("a"):
            last += "а" if script else "a"
        style = rng.random()
        full = f"{first} {last}"
        # Most are saved with their full name, some by first name or with an emoji; a few only by their number.
        fancy = f"{full} {rng.choice(_NAME_EMOJI)}"
        name = full if style < 0.7 else first if style < 0.88 else fancy if style < 0.98 else ""
        while True:
            prefix = rng.choice(c.prefixes)
            width = c.digits - len(prefix)
            national = f"{prefix}{rng.randrange(10**width):0{width}d}"
            if national not in phones:
                phones.add(national)
                break
        email = None
        if rng.random() < 0.2:
            domain = rng.choice(("gmail.com", c.mail))
            email = f"{_ascii(first_pair[0])}.{_ascii(last_pair[0])}{rng.randrange(100)}@{domain}"
        company = c.company.format(l=last_pair[0] if c.company.isascii() else last_pair[1])
        return _Person(first, name, f"+{c.cc}{national}", f"{c.cc}{national}@c.us", email,
                       rng.choice(c.cities), c.lang, company)  # fmt: skip

    def plan_chats(self, chats: int, messages: int) -> None:
        rng = self.rng
        counts = _allocate(messages, [rng.lognormvariate(0.0, 1.5) for _ in range(chats)])
        phones: set[str] = set()
        self.people = [self.person(phones) for _ in range(chats)]
        self.times: list[array[int]] = []
        self.flags: list[bytearray] = []  # per message: 1 inbound, 2 opens a conversation
        for n in counts:
            # Half the customers (and all regulars) wrote in the last weeks; the others months ago.
            recent = rng.random() < 0.5 or n > 200
            end = self.base_ms - _MIN - int((rng.expovariate(0.1) if recent else 30 + rng.random() * 370) * _DAY)
            earliest = min(self.base_ms - int((420 + rng.random() * 300) * _DAY), end - 90 * _DAY)
            times, flags = _timeline(rng, n, end, earliest)
            self.times.append(times)
            self.flags.append(flags)
        self.contact_ids = [new_id() for _ in range(chats)]
        self.chat_ids = [new_id() for _ in range(chats)]
        self.assigned = [
            rng.choices(self.agents, weights=self.agent_weights)[0] if rng.random() < 0.65 else None
            for _ in range(chats)
        ]

    def when(self, i: int) -> int:
        """A moment inside chat ``i``'s history."""
        first, last = self.times[i][0], self.times[i][-1]
        return first + int(self.rng.random() * (last - first))

    # ---- companies, deals, sales, notes --------------------------------------------------------------------------
    def plan_crm(self) -> None:
        s, rng, n = self.s, self.rng, len(self.people)
        self.companies: list[Company] = []
        self.company_of: dict[int, Company] = {}
        by_lang: dict[str, list[Company]] = {}
        for i in sorted(rng.sample(range(n), k=max(1, n * 3 // 100))):
            p = self.people[i]
            if by_lang.get(p.lang) and rng.random() < 0.6:  # a colleague of someone already here
                self.company_of[i] = rng.choice(by_lang[p.lang])
                continue
            slug = _ascii(p.company)
            company = s.companies.new(
                **self.new_at(
                    self.times[i][0] - _DAY,
                    name=p.company,
                    phone=p.phone,
                    domain=f"{slug}.com" if slug and rng.random() < 0.5 else None,
                )
            )
            self.companies.append(company)
            by_lang.setdefault(p.lang, []).append(company)
            self.company_of[i] = company
        open_stages = [st for st in self.stages if st.stage_kind == "open"]
        self.deals: list[Deal] = []
        self.deal_of: dict[int, Deal] = {}
        sale_lines: list[tuple[int, int, Deal | None, list[tuple[Product, int]]]] = []
        position: dict[str, float] = {}
        for i in sorted(rng.sample(range(n), k=n * 15 // 100)):
            r = rng.random()
            wanted = "won" if r < 0.25 else "lost" if r < 0.4 else "open"
            stage = rng.choice([st for st in self.stages if st.stage_kind == wanted] or open_stages or self.stages)
            kind = stage.stage_kind
            lines = self.basket(i)
            created = self.when(i)
            closed = min(created + int(rng.random() * 20 * _DAY), self.base_ms - _HOUR)
            position[stage.id] = position.get(stage.id, 0.0) + 1000.0
            who = self.people[i].name or self.people[i].phone
            more = f" + {len(lines) - 1} more" if len(lines) > 1 else ""
            deal = s.deals.new(**self.new_at(
                created, pipeline_id=self.pipeline_id, stage_id=stage.id, title=f"{lines[0][0].name}{more} for {who}",
                contact_id=self.contact_ids[i], company_id=self.company_of[i].id if i in self.company_of else None,
                owner_user_id=self.assigned[i] or self.owner_id, value_minor=sum(p.price_minor * q for p, q in lines),
                currency=self.currency, status=kind, position=position[stage.id],
                expected_close_at=_dt(self.base_ms + (3 + rng.randrange(40)) * _DAY) if kind == "open" else None,
                closed_at=_dt(closed) if kind != "open" else None,
            ) | {"updated_at": _dt(closed if kind != "open" else created)})  # fmt: skip
            self.deals.append(deal)
            self.deal_of[i] = deal
            if kind == "won":
                sale_lines.append((i, closed, deal, lines))
        won_by = {i for i, *_ in sale_lines}
        others = [i for i in range(n) if i not in won_by]
        buyers = won_by | set(rng.sample(others, k=max(0, min(len(others), n * 8 // 100 - len(won_by)))))
        for i in sorted(buyers):  # repeat customers: a few buy again and again
            for _ in range(int(rng.expovariate(1.1)) + (i not in won_by)):
                sale_lines.append((i, self.when(i), None, self.basket(i)))
        sale_lines.sort(key=lambda x: (x[1], x[0]))
        self.sales: list[Sale] = []
        self.items: list[SaleItem] = []
        self.ltv = [0] * n
        self.sale_count = [0] * n
        self.last_sale = [0] * n
        for i, at, won, lines in sale_lines:
            amount = sum(p.price_minor * q for p, q in lines)
            sale = s.sales.new(**self.new_at(
                at, contact_id=self.contact_ids[i], deal_id=won.id if won else None, chat_id=self.chat_ids[i],
                amount_minor=amount, currency=self.currency, sold_at=_dt(at), note=rng.choice(_SALE_NOTES),
                recorded_by_user_id=self.assigned[i] or self.owner_id))  # fmt: skip
            self.sales.append(sale)
            for product, qty in lines:
                self.items.append(s.sale_items.new(**self.new_at(
                    at, sale_id=sale.id, product_id=product.id, description=product.name, quantity=qty,
                    unit_price_minor=product.price_minor)))  # fmt: skip
            self.ltv[i] += amount
            self.sale_count[i] += 1
            self.last_sale[i] = max(self.last_sale[i], at)
        self.notes: list[Note] = []
        for i in sorted(rng.sample(range(n), k=n * 5 // 100)):
            for _ in range(1 + int(rng.random() < 0.25)):
                p = self.people[i]
                body = rng.choice(_NOTES).format(
                    p=rng.choice(self.products).name,
                    city=p.city,
                    price=_money(rng.randrange(50, 500) * 100, self.currency),
                )
                deal_id = self.deal_of[i].id if i in self.deal_of and rng.random() < 0.5 else None
                self.notes.append(s.notes.new(**self.new_at(
                    self.when(i), body=body, contact_id=self.contact_ids[i], chat_id=self.chat_ids[i],
                    deal_id=deal_id, author_user_id=self.assigned[i] or rng.choice(self.agents))))  # fmt: skip

    def basket(self, i: int) -> list[tuple[Product, int]]:
        wholesale = i in self.company_of
        picks = self.rng.sample(self.products, k=min(len(self.products), 1 + int(self.rng.expovariate(1.5))))
        return [(p, 5 + self.rng.randrange(20) if wholesale else 1 + int(self.rng.random() < 0.2)) for p in picks]

    # ---- contacts and chats ----------------------------------------------------------------------------------------
    def build_people(self) -> tuple[list[Contact], list[Chat]]:
        s, rng, n = self.s, self.rng, len(self.people)
        pinned = set(rng.sample(range(n), k=min(3, max(1, n // 10))))
        contacts: list[Contact] = []
        chats: list[Chat] = []
        for i, p in enumerate(self.people):
            times, flags = self.times[i], self.flags[i]
            first, last = times[0], times[-1]
            age = self.base_ms - last
            lifecycle: Lifecycle = "new" if len(times) <= 3 else rng.choice(("new", "lead", "lead"))
            deal = self.deal_of.get(i)
            if self.sale_count[i]:
                lifecycle = "churned" if age > 240 * _DAY and rng.random() < 0.5 else "customer"
            elif deal is not None:
                lifecycle = "qualified" if deal.status == "open" and rng.random() < 0.6 else "lead"
            score = {"new": 0, "lead": 15, "qualified": 40, "customer": 60, "churned": 20}[lifecycle]
            tags = ["Wholesale"] if i in self.company_of else []
            if self.sale_count[i] >= 3 or self.ltv[i] >= 30_000:
                tags.append("VIP")
            if self.sale_count[i] == 1 and self.base_ms - self.last_sale[i] < 60 * _DAY:
                tags.append("New customer")
            if rng.random() < 0.06:
                tags.append("Instagram")
            created = first - _MIN * (1 + rng.randrange(600))
            contacts.append(s.contacts.new(**self.new_at(
                created, id=self.contact_ids[i], name=p.name, phone=p.phone, wa_id=p.wa_id, email=p.email,
                company_id=self.company_of[i].id if i in self.company_of else None, owner_user_id=self.assigned[i],
                language=p.lang, lifecycle=lifecycle, tags=tags, lead_score=score + rng.randrange(40),
                lifetime_value_minor=self.ltv[i], currency=self.currency, last_contacted_at=_dt(last),
            ) | {"updated_at": _dt(last)}))  # fmt: skip
            # Unread: a trailing run of customer messages nobody has opened yet, most often in recent chats.
            last_read: int | None = last
            if flags[-1] & 1 and rng.random() < (0.8 if age < 2 * _DAY else 0.3 if age < 14 * _DAY else 0.05):
                answered = [t for t, f in zip(times, flags, strict=True) if not f & 1]
                last_read = answered[-1] if answered else None
            chat_tags = [t for t in tags if t == "VIP"]
            chat_tags += ["Follow up"] if rng.random() < 0.05 else ["Complaint"] if rng.random() < 0.01 else []
            chats.append(s.chats.new(**self.new_at(
                created, id=self.chat_ids[i], contact_id=self.contact_ids[i], wa_chat_id=p.wa_id,
                title=p.name or p.phone, assigned_user_id=self.assigned[i], tags=chat_tags,
                last_read_at=_dt(last_read) if last_read is not None else None, pinned=i in pinned,
                archived=i not in pinned and age > 60 * _DAY and rng.random() < 0.15,
                muted_until=_dt(self.base_ms + 365 * _DAY) if rng.random() < 0.01 else None,
            ) | {"updated_at": _dt(last)}))  # fmt: skip
        return contacts, chats

    def insert_crm(self) -> None:
        s = self.s
        contacts, chats = self.build_people()
        with s.db.transaction():
            if self.new_products:  # stock is what is left today, after the seeded sales
                s.products.add_many(self.products)
            s.companies.add_many(self.companies)
            s.contacts.add_many(contacts)
            self.progress("contacts", len(contacts), len(contacts))
            s.chats.add_many(chats)
            self.progress("chats", len(chats), len(chats))
            s.deals.add_many(self.deals)
            s.sales.add_many(self.sales)
            s.sale_items.add_many(self.items)
            s.notes.add_many(self.notes)

    # ---- messages ------------------------------------------------------------------------------------------------
    def insert_messages(self, total: int) -> float:
        """Insert every chat's messages in global time order (as a live capture would), in batches."""
        s, rng, new_message = self.s, self.rng, self.s.messages.new
        n = len(self.chat_ids)
        keys = [t * n + c for c, times in enumerate(self.times) for t in times]
        keys.sort()
        goods = [p for p in self.products if p.stock is not None] or self.products  # what people ask about
        prices = [_money(p.price_minor, self.currency) for p in goods]
        ctx = [{"n": p.first or p.phone, "city": p.city, "shop": self.shop} for p in self.people]
        lines = [_LINES[p.lang] for p in self.people]
        tail = [max((j + 1 for j, f in enumerate(fs) if f & 1), default=0) for fs in self.flags]
        flags, chat_ids, assigned, senders = self.flags, self.chat_ids, self.assigned, [p.wa_id for p in self.people]
        pos, topic, asked = [0] * n, [0] * n, [0] * n
        last_in: list[tuple[str, str] | None] = [None] * n
        said = [""] * n  # the chat's previous template: nobody sends the same line twice in a row
        counter = s.messages.count(include_deleted=True)
        salt = rng.getrandbits(64)
        batch: list[Message] = []
        inserting = 0.0
        done = 0
        for key in keys:
            t, c = divmod(key, n)
            j = pos[c]
            pos[c] = j + 1
            inbound = flags[c][j] & 1
            if flags[c][j] & 2:  # a new conversation: greeting or straight to a product
                topic[c] = 0 if rng.random() < 0.6 else 1
                k = rng.randrange(len(goods))
                ctx[c].update(p=goods[k].name, price=prices[k], q=str(2 + rng.randrange(5)),
                              days=str(2 + rng.randrange(3)), ref=f"#{1000 + rng.randrange(9000)}")  # fmt: skip
            at = _dt(t)
            kind: Any = "text"
            media: dict[str, Any] | None = None
            quoted: tuple[str, str] | None = None
            if inbound:
                asked[c] = tp = topic[c]
                body = self.line(lines[c][tp][0], said, c).format_map(ctx[c])
                topic[c] = 1 if tp == _TOPICS - 1 else tp + (rng.random() < 0.55)
                status: Any = "received"
                if rng.random() < 0.03:
                    kind, body = "voice", ""
                    media = {"mime": "audio/ogg; codecs=opus", "seconds": 2 + rng.randrange(60)}
            else:
                tp = asked[c]
                body = self.line(lines[c][tp][1], said, c).format_map(ctx[c])
                r = rng.random()
                status = ("read" if r < 0.45 else "delivered" if r < 0.85 else "sent") if j >= tail[c] else (
                    "read" if r < 0.93 else "delivered" if r < 0.99 else "sent")  # fmt: skip
                if tp == 1 and rng.random() < 0.3:
                    kind, media = "image", {"mime": "image/jpeg", "width": 1080, "height": 1350,
                                            "size": 90_000 + rng.randrange(250_000)}  # fmt: skip
                elif tp == 4 and rng.random() < 0.15:
                    ref = str(ctx[c]["ref"])[1:]
                    kind, body = "document", f"Invoice {ref}"
                    media = {"mime": "application/pdf", "file_name": f"invoice-{ref}.pdf", "size": 40_000}
                if rng.random() < 0.03:
                    quoted = last_in[c]
            x = ((counter + done + len(batch)) * 0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF
            r = rng.random()
            wa_id = f"3EB0{x:016X}" if r < 0.8 else f"3A{x:016X}{rng.getrandbits(8):02X}" if r < 0.9 else (
                f"{x:016X}{rng.getrandbits(64):016X}")  # fmt: skip
            # Validated like any record: pydantic-core's model_validate is faster than the pure-Python model_construct.
            message = new_message(
                created_at=at, updated_at=at, chat_id=chat_ids[c],
                direction="in" if inbound else "out", body=body, kind=kind, status=status, wa_id=wa_id,
                sender_wa_id=senders[c] if inbound else None,
                author_user_id=None if inbound else assigned[c] or self.owner_id,
                quoted_message_id=quoted[0] if quoted else None, quoted_wa_id=quoted[1] if quoted else None,
                media=media, sent_at=at)  # fmt: skip
            batch.append(message)
            if inbound:
                last_in[c] = (message.id, wa_id)
            if len(batch) == BATCH:
                inserting += self.flush(batch)
                done += len(batch)
                batch = []
                self.progress("messages", done, total)
        if batch:
            inserting += self.flush(batch)
            done += len(batch)
            self.progress("messages", done, total)
        return inserting

    def line(self, options: tuple[str, ...], said: list[str], c: int) -> str:
        k = int(self.rng.random() * len(options))
        if options[k] == said[c]:
            k = (k + 1) % len(options)
        said[c] = options[k]
        return options[k]

    def flush(self, batch: list[Message]) -> float:
        started = time.perf_counter()
        self.s.messages.add_many(batch)
        return time.perf_counter() - started


def populate(
    store: Store,
    *,
    chats: int,
    messages: int,
    seed: int,
    progress: Progress | None = None,
    base: datetime = BASE,
) -> SeedReport:
    """Fill ``store`` (any store whose org row exists) with ``chats`` customers and ``messages`` messages."""
    if chats < 1 or messages < chats:
        raise ValueError("need at least one chat, and at least as many messages as chats")
    started = time.perf_counter()
    seeder = _Seeder(store, random.Random(seed), base, progress or (lambda stage, done, total: None))
    seeder.setup()
    seeder.plan_chats(chats, messages)
    seeder.plan_crm()
    seeder.insert_crm()
    message_seconds = seeder.insert_messages(messages)
    return SeedReport(
        contacts=chats,
        chats=chats,
        messages=messages,
        notes=len(seeder.notes),
        deals=len(seeder.deals),
        sales=len(seeder.sales),
        products=len(seeder.products),
        message_seconds=round(message_seconds, 3),
        total_seconds=round(time.perf_counter() - started, 3),
    )


# ---- command line -------------------------------------------------------------------------------------------
def _printer(stream: Any) -> Progress:
    shown: dict[str, int] = {}

    def show(stage: str, done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if stream.isatty():
            print(f"\r  {stage}: {done:,} / {total:,}", end="\n" if done >= total else "", file=stream, flush=True)
        elif shown.get(stage) != tenth:
            shown[stage] = tenth
            print(f"  {stage}: {done:,} / {total:,}", file=stream, flush=True)

    return show


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.store.seed", description="Create a demo workspace.")
    parser.add_argument("--chats", type=int, default=10_000, help="customers, one chat each (default 10000)")
    parser.add_argument("--messages", type=int, default=500_000, help="messages in all (default 500000)")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same data (default 1)")
    parser.add_argument("--home", help="folder holding the workspaces (default: PARLEY_HOME or the OS data dir)")
    parser.add_argument("--name", default="Demo Boutique", help="business name (default 'Demo Boutique')")
    parser.add_argument(
        "--base-date", type=_date, default=BASE, metavar="YYYY-MM-DD",
        help="the demo's 'today': all activity lies before it (default 2026-01-01; use a recent date for screenshots)",
    )  # fmt: skip
    parser.add_argument(
        "--passphrase-env", default="PARLEY_PASSPHRASE", metavar="VAR",
        help="environment variable holding the passphrase, used when no secure keyring exists",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.chats < 1 or args.messages < args.chats:
        parser.error("--chats must be at least 1 and --messages at least --chats (every chat gets a message)")
    home = resolve_home(args.home)
    vault = KeyringVault(keyring.get_keyring())
    passphrase: str | None = None
    mode = f"keyring ({vault.name})"
    if not vault.secure:
        passphrase = os.environ.get(args.passphrase_env) or None
        mode = f"passphrase (from ${args.passphrase_env})"
        if passphrase is None and sys.stdin.isatty():
            passphrase = getpass.getpass(f"No secure keyring ({vault.name}). Passphrase for the new workspace: ")
            if getpass.getpass("Repeat it: ") != passphrase:
                print("error: the passphrases differ", file=sys.stderr)
                return 2
            mode = "passphrase (typed)"
        if not passphrase:
            print(f"error: no secure keyring ({vault.name}), so the workspace needs a passphrase: set "
                  f"{args.passphrase_env} or run this from a terminal", file=sys.stderr)  # fmt: skip
            return 2
    workspaces = Workspaces(home, vault)
    try:
        email = f"alex@{_ascii(args.name) or 'demo'}.example"
        store = workspaces.create(args.name, "Alex Morgan", owner_email=email, passphrase=passphrase)
    except ParleyError as exc:
        print(f"error: {exc} {exc.hint}", file=sys.stderr)
        return 1
    workspace_id = store.meta("workspace_id") or ""
    print(f"Seeding workspace {args.name!r} ({workspace_id}) with seed {args.seed}…", file=sys.stderr)
    try:
        report = populate(
            store, chats=args.chats, messages=args.messages, seed=args.seed, progress=_printer(sys.stderr),
            base=args.base_date,
        )  # fmt: skip
    except BaseException:
        store.close()
        workspaces.delete(workspace_id)
        raise
    store.close()
    print(f"workspace: {workspace_id}")
    print(f"folder:    {workspaces.paths(workspace_id).root}")
    print(f"key:       {mode}")
    print(f"data:      {report.contacts:,} contacts, {report.chats:,} chats, {report.messages:,} messages,")
    print(
        f"           {report.notes:,} notes, {report.deals:,} deals, {report.sales:,} sales, {report.products} products"
    )
    print(f"time:      {report.total_seconds:.1f} s ({report.message_seconds:.1f} s inserting messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
