"""`import ember` and a first training step load no optional library (the time itself is measured by
benchmarks/bench_import.py, never asserted here)."""
import json
import subprocess
import sys

import pytest

OPTIONAL = ("scipy", "safetensors", "cupy", "tqdm", "sklearn", "mpi4py", "torch", "matplotlib", "threadpoolctl")

PROGRAM = """
import json, sys
import ember
seen = {"import": sorted(set(sys.modules) & OPTIONAL)}
x = ember.randn(8, 3)
y = x * 2 + 1
seen["first op"] = sorted(set(sys.modules) & OPTIONAL)
model = ember.nn.Sequential(ember.nn.Conv2d(1, 4, 3, padding=1), ember.nn.ReLU(), ember.nn.MaxPool2d(2),
                            ember.nn.Flatten(), ember.nn.Linear(64, 10))
optimizer = ember.optim.Adam(model.parameters(), lr=1e-3)
data = ember.utils.data.TensorDataset(ember.randn(16, 1, 8, 8), ember.randint(0, 10, (16,)))
for images, labels in ember.utils.data.DataLoader(data, batch_size=8, shuffle=True):
    optimizer.zero_grad()
    loss = ember.nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    loss.item()
seen["training step"] = sorted(set(sys.modules) & OPTIONAL)
print(json.dumps(seen))
"""


@pytest.mark.no_device
def test_import_and_a_first_training_step_load_no_optional_library():
    program = f"OPTIONAL = set({OPTIONAL!r})\n" + PROGRAM
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"import": [], "first op": [], "training step": []}
