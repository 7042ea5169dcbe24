import re,sys
def reasons(src):
    t=open(src).read()
    c=t[t.index("waitReasonZero"):]
    c=c[:c.index("\n)")]
    names=[]
    for line in c.splitlines():
        line=line.split("//")[0].strip()
        if not line: continue
        names.append(line.split()[0])
    a=t[t.index("var waitReasonStrings"):]
    a=a[:a.index("\n}")]
    m=dict(re.findall(r'(waitReason\w+):\s*"([^"]*)"',a))
    return [m.get(n,"") for n in names]
out=[]
for ver,src in (("go1.19","/usr/lib/go-1.19/src/runtime/runtime2.go"),("go1.26","/usr/local/go/src/runtime/runtime2.go")):
    r=reasons(src)
    out.append((ver,r))
for ver,r in out:
    print("static const char *const wait_reasons_%s[] = {" % ver.replace(".","_"))
    line="\t"
    for x in r:
        item='"%s", ' % x
        if len(line)+len(item) > 90:
            print(line.rstrip()); line="\t"
        line+=item
    print(line.rstrip())
    print("};")
