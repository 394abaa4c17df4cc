"""Regenerates the *.tokenizer.json and *.extra.json test files here (not run by
the tests or CI). Needs: pip install sentencepiece protobuf tokenizers
transformers (any recent versions; the files record theirs). The .model
and .json goldens are copies of shared/goldens/tokenizer_spm.

    python make_extra.py /path/to/shared/goldens/tokenizer_spm
"""
import os, sys
import json, random, sentencepiece as spm, tokenizers, transformers
from tokenizers import Tokenizer
G=os.path.join(sys.argv[1], '')
OUT=os.path.join(os.path.dirname(os.path.abspath(__file__)), '')

from transformers.convert_slow_tokenizer import T5Converter


class _Slow:  # what T5Converter reads from a slow tokenizer
    def __init__(self, f):
        self.vocab_file, self._extra_ids, self.legacy, self.add_prefix_space, self.special_tokens = f, 0, True, True, []

    def convert_tokens_to_ids(self, t):
        return {'</s>': 1, '<pad>': 0, '<unk>': 2}[t]


class _T5ByteFallback(T5Converter):
    handle_byte_fallback = True


for _name, _conv in [('spm_unigram', T5Converter), ('spm_unigram_bytefallback', _T5ByteFallback)]:
    _conv(_Slow(G + _name + '.model')).converted().save(OUT + _name + '.tokenizer.json', pretty=False)
rnd=random.Random(20261123)
alph=list('abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,!?-\'"()') + [' ','  ','\t','\n','\r\n','\u3000','\u00a0','▁','_','ｆ','Ａ','１','ﬁ','①','é','e\u0301','ñ','色','调','艳','丽','，','。','🐱','𝔘','☃','\u200b','\x00','\x07','\ufeff','&amp;','ß','İ','ǅ','㍿','ｶ','ﾞ','⁇','\u0301','\U0010FFFF','\ue000','</s>','<pad>','<unk>','<0x41>', '\u0085', '\x1c', '\u2028', ' \u0301', '\u0600', '\u0600a', '\u1100\u1161\u11a8', '\u11a8\u0301', '\U0001F1FA\U0001F1F8', '\U0001F468\u200d\U0001F469', '\u200d', 'क्ष', 'कि', 'ก่', '\r', '\r\u0301', '\n\u0301', '\x07\u0301', 'Ａ\u0301', '\u00a0\u0301\u0301', 'Å', '\u212b', 'ｶﾞ', 'ｶﾞ\u0301', '\ufe0f', '☃\ufe0f', '\u00ad', '\u0345']
fixed=[b'', b' ', b'   ', b'\xe2\x96\x81', b'\xe2\x96\x81\xe2\x96\x81 a \xe2\x96\x81', b'a</s>b', b'<unk>', b'<0x41>', b'\x00', b'a\x00b',
       b'\xff', b'\xff\xfe abc \xc3', b'\xc3\xa9\xc3', b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'\xc0\xaf', b'\xe2\x82', b'\xef\xbf\xbd',
       b'x'*600, ('word '*300).encode(), 'A cat walks on the grass, realistic style.'.encode()]
texts=list(fixed)
for i in range(300):
    b=''.join(rnd.choice(alph) for _ in range(rnd.randint(0,30))).encode()
    if rnd.random()<0.25:
        bl=bytearray(b)
        for _ in range(rnd.randint(1,3)):
            pos=rnd.randint(0,len(bl)); bl[pos:pos]=bytes([rnd.choice([0x80,0xbf,0xc0,0xc3,0xe2,0xed,0xf0,0xf4,0xf8,0xff])])
        b=bytes(bl)
    texts.append(b)
for name in ['spm_unigram','spm_unigram_bytefallback']:
    sp=spm.SentencePieceProcessor(model_file=G+name+'.model')
    tk=Tokenizer.from_file(OUT+name+'.tokenizer.json')
    cases=[]
    for t in texts:
        c={'text_hex': t.hex(), 'ids': sp.encode(t), 'pieces': sp.encode(t, out_type=str), 'decoded': sp.decode(sp.encode(t))}
        try:
            s=t.decode('utf-8')
            c['hf_ids']=tk.encode(s, add_special_tokens=False).ids
        except UnicodeDecodeError:
            pass
        cases.append(c)
    about=('Extra cases (generated): text_hex = the input bytes (may be invalid UTF-8); ids/pieces/decoded from sentencepiece %s on %s.model; '
           'hf_ids from HF tokenizers %s on %s.tokenizer.json (made from the .model by transformers %s T5Converter, '
           'with byte fallback for the byte-fallback model; add_special_tokens=False; valid UTF-8 texts only)'
           % (spm.__version__, name, tokenizers.__version__, name, transformers.__version__))
    json.dump({'about': about, 'cases': cases}, open(OUT+name+'.extra.json','w'), ensure_ascii=False, separators=(',',':'))
    print(name, len(cases), sum('hf_ids' in c for c in cases), sum(1 for c in cases if 'hf_ids' in c and c['hf_ids']!=c['ids']))
