#!/usr/bin/env python3
"""Trains the tiny byte-level BPE tokenizers of test-tokenizer-bpe and records
HF tokenizers' outputs for them. Training may differ between runs and
versions: the outputs are generated once and committed.

    pip install tokenizers transformers   # transformers >= 5 (tokenizers-backed CLIPTokenizer)
    python3 tests/data/tokenizer_bpe/make_bpe.py

Writes, next to this script:
  llama3.tokenizer.json  Llama 3 style: Split(Llama 3 regex, Isolated) + ByteLevel(use_regex=False),
                         ignore_merges, special tokens added after the model vocabulary,
                         TemplateProcessing prepending <|begin_of_text|>
  clip.tokenizer.json    CLIP style, as transformers' CLIPTokenizer builds it: NFC + Replace(\\s+) +
                         Lowercase, Split(CLIP regex, Removed, invert) + ByteLevel, suffix </w>,
                         unk <|endoftext|>, RobertaProcessing
  clip.vocab.json, clip.merges.txt   the same CLIP model as "slow" files
  *.extra.tokenizer.json the same models with more added tokens (lstrip/rstrip, normalized, not special)
  <name>.expected.json   {"texts": [{"text", "ids", "ids_special", "decoded"}]}; for clip also
                         "ids_clip_files": the ids of transformers.CLIPTokenizer.from_pretrained on a
                         folder with vocab.json + merges.txt (asserted equal to ids_special)
"""
import json
import os
import shutil
import tempfile

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
from tokenizers.models import BPE

HERE = os.path.dirname(os.path.abspath(__file__))

LLAMA3_RE = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
CLIP_RE = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
LLAMA3_SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]

HUNYUAN_TEMPLATE = (
    "<|start_header_id|>system<|end_header_id|>\n\nDescribe the video by detailing the following aspects: "
    "1. The main content and theme of the video.2. The color, shape, size, texture, quantity, text, and spatial "
    "relationships of the objects.3. Actions, events, behaviors temporal relationships, physical movement changes "
    "of the objects.4. background environment, light, style and atmosphere.5. camera angles, movements, and "
    "transitions used in the video:<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>")

PROMPTS = [
    "A cat walks on the grass, realistic style.",
    "A golden retriever runs along a beach at sunset, waves crashing, 4K, slow motion.",
    "An astronaut rides a horse on Mars; dust rises behind them.",
    "Close-up of a chef's hands chopping vegetables in a busy kitchen.",
    "A timelapse of clouds moving over snowy mountains, 24fps, cinematic lighting.",
    "Two kids play chess in a park. The boy wins! They laugh.",
    "一只猫在草地上行走，写实风格。",
    "夕阳下的海边，一位女孩在跳舞，镜头缓缓推进。",
    "城市夜景，霓虹灯闪烁，雨后街道反射着光。",
    "A robot 🤖 paints a picture of a 🌈 rainbow over a 🏔️ mountain.",
    "Fireworks 🎆🎇 over Tokyo Tower at 23:59:59 on 2024-12-31.",
    "A slow pan across a desk: a laptop shows `print(\"hello, world\")` and a mug of ☕.",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG. don't stop, it's fine, we'll see, I'M HERE, they'VE gone.",
    "Café au lait, naïve façade, jalapeño, São Paulo, Zürich, Ærøskøbing, İstanbul, ΣΊΣΥΦΟΣ.",
    "A dog   with   many    spaces\tand\ttabs\nand\nnewlines\r\nand CRLF.",
    "Numbers: 3.14159, 1234567890, 007, 1,000,000 and 12/25/2023.",
    "Снег падает на старый город, камера медленно поднимается.",
    "주황색 고양이가 창가에서 잠을 잔다.",
    "ロボットが桜の木の下で踊っている。",
    "A neon sign reads \"OPEN 24/7\" — flickering…",
]

CORPUS = PROMPTS + [
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away into the forest.",
    "She said: \"I can't believe it's already 2024!\" He replied, 'We'll manage, we've done it before.'",
    "def encode(text: str) -> list[int]:\n    return [ord(c) for c in text if c.isalnum()]\n",
    "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }  // dot product\n",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name ORDER BY 2 DESC;",
    "<html><body><h1>Title</h1><p>Paragraph &amp; more</p></body></html>",
    "我们今天去公园散步，天气很好，阳光明媚。小狗在草地上奔跑，孩子们在放风筝。",
    "人工智能正在改变世界，视频生成模型可以根据文字描述生成高质量的视频。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
    "😀😃😄😁😆😅😂🤣 emoji party 🎉🎊🥳 with family 👨‍👩‍👧‍👦 and flags 🇯🇵🇺🇸🇨🇳",
    "Prices: $19.99, €25,00, ¥1000, £5 — discounts up to 50%!!! Call +1-555-0100.",
    "Tabs\tand   spaces\u00a0non-breaking\u3000ideographic\u2003em space\u2028line sep",
    "Line one\nLine two\n\n\nLine five\r\nWindows line\rOld Mac line",
    "A camera slowly zooms into a field of sunflowers swaying in the wind under a blue sky.",
    "A drone shot of a waterfall in a tropical rainforest, mist rising, birds flying.",
    "An old man reads a newspaper on a bench while pigeons gather around his feet.",
    "A futuristic city with flying cars and tall glass buildings reflecting the sunset.",
    "Underwater footage of a coral reef with colorful fish swimming between the rocks.",
    "A woman in a red dress walks down a rainy street holding a transparent umbrella.",
    "A steaming cup of coffee on a wooden table next to an open book, morning light.",
    "Mathematics: e^(iπ) + 1 = 0, ∑ x² ≤ ∞, α β γ δ ε, √2 ≈ 1.41421356.",
    "Ünïcödé têxt wïth àccénts, ligatures ﬁ ﬂ, full-width ＡＢＣ１２３, and superscripts ¹²³.",
    "Version v1.2.3-beta+build.45 released on 2023-07-04T12:34:56Z; see https://example.com/a?b=c&d=e#f.",
    "I'm sure you're right, but they'd say he'll never do it, isn't it? She's done; it'd work.",
] * 3


def texts():
    out = list(PROMPTS)
    out += [HUNYUAN_TEMPLATE.format(p) for p in PROMPTS[:12]]
    out += CORPUS[:len(CORPUS) // 3]
    out += [
        "", " ", "  ", "\n", "\r\n", "\t \n ", "a", "A", "'s", "'S", "'LL", "'ſ", "x'RE", "   leading", "trailing   ",
        "a  b", "a \n b", "a\n\n b", "word!!!\n\n", " !!", "!?\r\n\r\nx", "123456789", "1 22 333 4444", "x1y22z333",
        "e\u0301 a\u0300 o\u0308\u0304 \u1100\u1161\u11a8 \u212b \u0041\u030a \u1e0b\u0323 \u0071\u0307\u0323",
        "İstanbul IİıI ΣΑΣ ǅǄǆ ẞ Ω K Å", "\u00a0\u00a0x\u3000y\u2028z\u0085w", "\u000b\u000c\u001c\u001f",
        "<|begin_of_text|>", "<|eot_id|>hello<|eot_id|>", "a<|start_header_id|>b", "<|startoftext|>a photo<|endoftext|>",
        "<|endoftext|><|endoftext|>", "<|begin_of_text", "<|eot_id|", "🤖🤖🤖", "👨‍👩‍👧‍👦", "🇯🇵🇺🇸", "\U0001F600x",
        "ÿþý", "\u0000", "\u007f\u0080\u00ff", "한국어 텍스트", "漢字かなカナ", "ｶﾀｶﾅ", "ǈubljana",
        "A" * 300, "ab" * 200, "1" * 50, "!" * 40, " " * 30 + "x", "\n" * 10,
        "mIxEd CaSe WoRdS", "don't DON'T Don'T", "a'b'c", "''s", "It's, it'S, IT's",
        # regex corners: (?i) folding, whitespace lookahead, non-ASCII numbers and marks
        "'ſx", "'Sx", "'Kx", "x  \n\t y", "a  b", "a  b", "  \n  \n x", "!!!\n\n\nabc", " ?? x",
        "\t\tfoo", "foo \t", "12345 678", "٣٤٥ ½ Ⅻ", "x́y ́", "a'b'LL'Ve", "\r\r\n \r",
    ]
    words = [p.split() for p in PROMPTS + CORPUS[:8]]
    # pairs of prompt fragments: more word boundaries, punctuation and script mixes
    for i in range(150):
        a, b = words[i % len(words)], words[(i * 7 + 3) % len(words)]
        out.append(" ".join(a[i % max(1, len(a)):][:4] + b[: 1 + i % 5]) + ["", ".", "!\n", "  ", "\t"][i % 5])
    return out


def train_llama3():
    tok = Tokenizer(BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_RE), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    # as in Llama 3: the special tokens live after the model vocabulary
    tok.add_special_tokens(LLAMA3_SPECIAL)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    return tok


def train_clip():
    tok = Tokenizer(BPE(continuing_subword_prefix="", end_of_word_suffix="</w>", unk_token="<|endoftext|>",
                        fuse_unk=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                           normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(CLIP_RE), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1500, special_tokens=["<|startoftext|>", "<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), end_of_word_suffix="</w>",
                                  show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.RobertaProcessing(("<|endoftext|>", tok.token_to_id("<|endoftext|>")),
                                                      ("<|startoftext|>", tok.token_to_id("<|startoftext|>")),
                                                      trim_offsets=False, add_prefix_space=False)
    return tok


def record(tok, name, all_texts, extra=None):
    tok.save(os.path.join(HERE, f"{name}.tokenizer.json"))
    tok = Tokenizer.from_file(os.path.join(HERE, f"{name}.tokenizer.json"))  # what the C++ side reads
    rows = []
    for t in all_texts:
        ids = tok.encode(t, add_special_tokens=False).ids
        ids_special = tok.encode(t, add_special_tokens=True).ids
        rows.append({"text": t, "ids": ids, "ids_special": ids_special,
                     "decoded": tok.decode(ids_special, skip_special_tokens=False)})
        if extra:
            extra(t, rows[-1])
    with open(os.path.join(HERE, f"{name}.expected.json"), "w", encoding="utf-8") as f:
        json.dump({"texts": rows}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def main():
    all_texts = texts()
    llama = train_llama3()
    record(llama, "llama3", all_texts)

    clip = train_clip()
    clip.model.save(HERE, "clip")  # clip-vocab.json, clip-merges.txt
    os.replace(os.path.join(HERE, "clip-vocab.json"), os.path.join(HERE, "clip.vocab.json"))
    os.replace(os.path.join(HERE, "clip-merges.txt"), os.path.join(HERE, "clip.merges.txt"))
    # a folder laid out as HunyuanVideo's tokenizer_2/
    from transformers import CLIPTokenizer
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(HERE, "clip.vocab.json"), os.path.join(d, "vocab.json"))
        shutil.copy(os.path.join(HERE, "clip.merges.txt"), os.path.join(d, "merges.txt"))
        slow_files = CLIPTokenizer.from_pretrained(d)

    def check_files(t, row):
        ids = slow_files(t)["input_ids"]
        assert ids == row["ids_special"], (t, ids, row["ids_special"])
        row["ids_clip_files"] = ids

    record(clip, "clip", all_texts, check_files)

    # the same models with added tokens of every flag combination the loader handles
    extra_texts = [t for t in all_texts if len(t) < 120][:60] + [
        "look at <img> this", "look at<img>this", "  <img>  ", "<img><img>", "A Photo Of a cat", "a PHOTO   OF x",
        "photo of", "Photo\u00a0Of", "<IMG>", "x [sep] y", "x[sep]y", "[SEP]", "<|eot_id|> <img> [sep]",
    ]
    llama.add_tokens([AddedToken("<img>", lstrip=True, rstrip=True, normalized=False, special=False),
                      AddedToken("[sep]", lstrip=False, rstrip=True, normalized=False, special=True)])
    record(llama, "llama3.extra", extra_texts)
    clip.add_tokens([AddedToken("Photo Of", normalized=True, special=False),
                     AddedToken("<img>", lstrip=True, rstrip=False, normalized=False, special=False)])
    record(clip, "clip.extra", extra_texts)


if __name__ == "__main__":
    main()
