import time
from support import define, run_job, write
def test_probe(store, settings, data_dir, tmp_path):
    src = write(tmp_path / "a.csv", 'id,name\n1,Ann\n2,Bob\n3,Cy\n')
    for i in range(5):
        t=time.perf_counter()
        run_job(store, settings, define(source=str(src), chunk_rows=1, target={"table": f"t{i}"}, format={"delimiter": ",", "encoding": "utf-8"}))
        print(time.perf_counter()-t)
