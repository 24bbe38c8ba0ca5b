"""ember.models vision and generative architectures: output shapes, parameter counts and forward
values against the same architecture built in PyTorch (weights copied), forward+backward reaching
every parameter, and a few optimisation steps that lower the loss."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.models import (VAE, AutoEncoder, BasicBlock, DCGANDiscriminator, DCGANGenerator,
                          DenoisingAutoEncoder, InceptionBlock, InceptionNet, LeNet5,
                          MLPDiscriminator, MLPGenerator, ResNet, SmallVGG, SparseAutoEncoder)


@pytest.fixture(autouse=True)
def seeded():
    ember.manual_seed(0)
    saved = ember.get_num_threads()
    ember.set_num_threads(1)          # tiny tensors: a second thread only adds barrier waits
    try:
        yield
    finally:
        ember.set_num_threads(saved)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def randn(rng, *shape):
    return ember.from_numpy(rng.standard_normal(shape).astype(np.float32))


def backward_reaches_all(model, x):
    out = model(x)
    out = out[0] if isinstance(out, tuple) else out
    (out * out).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert np.isfinite(p.grad.detach().numpy()).all(), name
    assert any(np.abs(p.grad.detach().numpy()).sum() > 0 for p in model.parameters())


# --- PyTorch twins, registering their parameters in ember's order ------------------------------

def torch_twin(name, torch):
    tnn = torch.nn

    def lenet(c_in, classes, image, small):
        pad2 = 2 if small else 0
        size = ((image // 2) + 2 * pad2 - 4) // 2

        class T(tnn.Module):
            def __init__(self):
                super().__init__()
                self.features = tnn.Sequential(
                    tnn.Conv2d(c_in, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                    tnn.Conv2d(6, 16, 5, padding=pad2), tnn.ReLU(), tnn.MaxPool2d(2))
                self.classifier = tnn.Sequential(
                    tnn.Flatten(), tnn.Linear(16 * size * size, 120), tnn.ReLU(),
                    tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, classes))

            def forward(self, x):
                return self.classifier(self.features(x))
        return T()

    def vgg(c_in, classes, widths):
        layers, c = [], c_in
        for w in widths:
            layers += [tnn.Conv2d(c, w, 3, padding=1), tnn.BatchNorm2d(w), tnn.ReLU(),
                       tnn.Conv2d(w, w, 3, padding=1), tnn.BatchNorm2d(w), tnn.ReLU(),
                       tnn.MaxPool2d(2)]
            c = w
        return tnn.Sequential(*layers, tnn.AdaptiveAvgPool2d(1), tnn.Flatten(),
                              tnn.Linear(c, classes))

    class Block(tnn.Module):
        def __init__(self, cin, c, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, c, 3, stride=stride, padding=1, bias=False)
            self.bn1 = tnn.BatchNorm2d(c)
            self.conv2 = tnn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = tnn.BatchNorm2d(c)
            self.down = None
            if stride != 1 or cin != c:
                self.down = tnn.Sequential(tnn.Conv2d(cin, c, 1, stride=stride, bias=False),
                                           tnn.BatchNorm2d(c))

        def forward(self, x):
            idt = x if self.down is None else self.down(x)
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + idt)

    def resnet(c_in, classes, blocks, widths):
        layers, c = [tnn.Conv2d(c_in, widths[0], 3, padding=1, bias=False),
                     tnn.BatchNorm2d(widths[0]), tnn.ReLU()], widths[0]
        for i, (n, w) in enumerate(zip(blocks, widths)):
            for j in range(n):
                layers.append(Block(c, w, 2 if (i > 0 and j == 0) else 1))
                c = w
        return tnn.Sequential(*layers, tnn.AdaptiveAvgPool2d(1), tnn.Flatten(),
                              tnn.Linear(c, classes))

    def conv_bn(cin, cout, k):
        return tnn.Sequential(tnn.Conv2d(cin, cout, k, padding=k // 2, bias=False),
                              tnn.BatchNorm2d(cout), tnn.ReLU())

    class Inception(tnn.Module):
        def __init__(self, cin, c1=16, c3r=16, c3=24, c5r=4, c5=8, pp=8):
            super().__init__()
            self.b1 = conv_bn(cin, c1, 1)
            self.b3 = tnn.Sequential(conv_bn(cin, c3r, 1), conv_bn(c3r, c3, 3))
            self.b5 = tnn.Sequential(conv_bn(cin, c5r, 1), conv_bn(c5r, c5, 5))
            self.bp = tnn.Sequential(tnn.MaxPool2d(3, stride=1, padding=1), conv_bn(cin, pp, 1))

        def forward(self, x):
            return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)

    def dcgan_gen(latent, ch, width, base):
        class G(tnn.Module):
            def __init__(self):
                super().__init__()
                f = 2 * width * base * base
                self.project = tnn.Sequential(tnn.Linear(latent, f), tnn.BatchNorm1d(f),
                                              tnn.ReLU())
                self.net = tnn.Sequential(
                    tnn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
                    tnn.BatchNorm2d(width), tnn.ReLU(),
                    tnn.ConvTranspose2d(width, ch, 4, 2, 1), tnn.Tanh())

            def forward(self, z):
                return self.net(self.project(z).reshape(z.shape[0], 2 * width, base, base))
        return G()

    def dcgan_disc(ch, width, image):
        return tnn.Sequential(
            tnn.Conv2d(ch, width, 4, 2, 1), tnn.LeakyReLU(0.2),
            tnn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), tnn.BatchNorm2d(2 * width),
            tnn.LeakyReLU(0.2), tnn.Flatten(), tnn.Linear(2 * width * (image // 4) ** 2, 1))

    return {"lenet": lenet, "vgg": vgg, "block": Block, "resnet": resnet,
            "inception": Inception, "dcgan_gen": dcgan_gen, "dcgan_disc": dcgan_disc}[name]


def copy_into_torch(model, tmodel, torch):
    """Copy ember's parameters into the torch twin in registration order (shapes must match)."""
    ours, theirs = list(model.parameters()), list(tmodel.parameters())
    assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]
    with torch.no_grad():
        for p, t in zip(ours, theirs):
            t.copy_(torch.from_numpy(p.detach().numpy().copy()))


TWINS = [
    ("lenet28", lambda: LeNet5(), ("lenet", (1, 10, 28, False)), (2, 1, 28, 28), 61706),
    ("lenet8", lambda: LeNet5(1, 10, image_size=8, small=True), ("lenet", (1, 10, 8, True)),
     (3, 1, 8, 8), 21386),
    ("vgg", lambda: SmallVGG(1, 10, widths=(8, 16)), ("vgg", (1, 10, (8, 16))), (2, 1, 8, 8),
     None),
    ("block_identity", lambda: BasicBlock(8, 8), ("block", (8, 8, 1)), (2, 8, 6, 6), None),
    ("block_down", lambda: BasicBlock(4, 8, stride=2), ("block", (4, 8, 2)), (2, 4, 6, 6), None),
    ("resnet", lambda: ResNet(3, 10, blocks=(1, 2), widths=(8, 16)),
     ("resnet", (3, 10, (1, 2), (8, 16))), (2, 3, 8, 8), None),
    ("inception", lambda: InceptionBlock(6), ("inception", (6,)), (2, 6, 7, 7), None),
    ("dcgan_gen8", lambda: DCGANGenerator(16, 1, 8, 2), ("dcgan_gen", (16, 1, 8, 2)), (4, 16),
     None),
    ("dcgan_disc8", lambda: DCGANDiscriminator(1, 8, 8), ("dcgan_disc", (1, 8, 8)),
     (4, 1, 8, 8), None),
    ("dcgan_disc28", lambda: DCGANDiscriminator(3, 8, 28), ("dcgan_disc", (3, 8, 28)),
     (2, 3, 28, 28), None),
]


@pytest.mark.parametrize("make, twin, shape, count", [t[1:] for t in TWINS],
                         ids=[t[0] for t in TWINS])
def test_matches_torch_twin(make, twin, shape, count, rng):
    torch = pytest.importorskip("torch")
    model = make()
    tmodel = torch_twin(twin[0], torch)(*twin[1])
    assert n_params(model) == sum(p.numel() for p in tmodel.parameters())
    if count is not None:
        assert n_params(model) == count
    copy_into_torch(model, tmodel, torch)
    x = rng.standard_normal(shape).astype(np.float32)
    for train in (False, True):           # eval: running stats; train: batch statistics
        model.train(train), tmodel.train(train)
        out = model(ember.from_numpy(x)).detach().numpy()
        with torch.no_grad():
            ref = tmodel(torch.from_numpy(x)).detach().numpy()
        assert out.shape == ref.shape
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_shapes_and_backward(rng):
    assert LeNet5(3, 7, image_size=32)(randn(rng, 2, 3, 32, 32)).shape == (2, 7)
    assert SmallVGG(3, 5)(randn(rng, 2, 3, 16, 16)).shape == (2, 5)
    block = BasicBlock(4, 8, stride=2)
    assert block(randn(rng, 2, 4, 8, 8)).shape == (2, 8, 4, 4)
    assert BasicBlock(8, 8).downsample is None and block.downsample is not None
    inc = InceptionBlock(6, 4, 4, 6, 2, 3, 5)
    assert inc.out_channels == 18 and inc(randn(rng, 2, 6, 5, 5)).shape == (2, 18, 5, 5)
    net = InceptionNet(1, 10)
    assert net(randn(rng, 2, 1, 8, 8)).shape == (2, 10)
    assert DCGANGenerator(16, 3, 8, 7)(randn(rng, 2, 16)).shape == (2, 3, 28, 28)
    g = MLPGenerator(4, 16, 3)
    assert g(randn(rng, 5, 4)).shape == (5, 3)
    assert MLPDiscriminator(3, 16)(randn(rng, 5, 3)).shape == (5, 1)
    assert n_params(g) == 4 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3
    for model, x in ((ResNet(1, 10, blocks=(1, 1), widths=(4, 8)), randn(rng, 2, 1, 8, 8)),
                     (net, randn(rng, 2, 1, 8, 8)), (LeNet5(1, 10, 8, small=True, dropout=0.5),
                                                     randn(rng, 4, 1, 8, 8)),
                     (DCGANGenerator(8, 1, 4, 2), randn(rng, 3, 8)),
                     (VAE(64, 16, 3), ember.from_numpy(rng.random((4, 64)).astype(np.float32)))):
        backward_reaches_all(model, x)


def test_autoencoders_forward(rng):
    x = ember.from_numpy(rng.random((6, 64)).astype(np.float32))
    ae = AutoEncoder(64, hidden=(32,), latent_dim=8)
    out = ae(x).detach().numpy()
    assert out.shape == (6, 64) and (out > 0).all() and (out < 1).all()
    assert ae.encode(x).shape == (6, 8)
    assert n_params(ae) == (64 * 32 + 32 + 32 * 8 + 8) + (8 * 32 + 32 + 32 * 64 + 64)

    dae = DenoisingAutoEncoder(64, (32,), 8, noise_std=0.5, mask_prob=0.3)
    dae.eval()
    np.testing.assert_array_equal(dae(x).detach().numpy(), dae(x).detach().numpy())  # no corruption in eval
    np.testing.assert_allclose(dae(x).detach().numpy(), AutoEncoder.forward(dae, x).detach().numpy())
    dae.train()
    assert not np.allclose(dae(x).detach().numpy(), dae(x).detach().numpy())          # fresh noise every call
    corrupted = dae.corrupt(ember.ones(2000, 64)).detach().numpy()
    assert abs((corrupted == 0).mean() - 0.3) < 0.02                  # masking noise

    sae = SparseAutoEncoder(64, (32,), latent_dim=16, rho=0.1, beta=2.0)
    sae(x)
    code = sae.last_code.detach().numpy()
    assert code.shape == (6, 16) and (code > 0).all() and (code < 1).all()
    rho_hat = code.mean(0)
    kl = 0.1 * np.log(0.1 / rho_hat) + 0.9 * np.log(0.9 / (1 - rho_hat))
    np.testing.assert_allclose(sae.sparsity_penalty().item(), 2.0 * kl.sum(), rtol=1e-4)
    sae.kind = "l1"
    np.testing.assert_allclose(sae.sparsity_penalty().item(), 2.0 * np.abs(code).mean(),
                               rtol=1e-5)


def test_vae_loss_and_sampling(rng):
    vae = VAE(64, hidden=16, latent_dim=3)
    x = ember.from_numpy(rng.random((5, 64)).astype(np.float32))
    vae.eval()
    recon, mu, logvar = vae(x)
    assert recon.shape == (5, 64) and mu.shape == (5, 3) and logvar.shape == (5, 3)
    np.testing.assert_allclose(vae.decoder(mu).detach().numpy(), recon.detach().numpy())  # eval: z = mu
    r, m, lv, xn = (t.detach().numpy().astype(np.float64) for t in (recon, mu, logvar, x))
    bce = -(xn * np.log(r) + (1 - xn) * np.log(1 - r)).sum()
    kl = -0.5 * (1 + lv - m ** 2 - np.exp(lv)).sum()
    np.testing.assert_allclose(VAE.loss(x, recon, mu, logvar).item(), (bce + kl) / 5, rtol=1e-4)
    vae.train()
    assert not np.allclose(vae(x)[0].detach().numpy(), vae(x)[0].detach().numpy())      # z is sampled
    s = vae.sample(7).detach().numpy()
    assert s.shape == (7, 64) and (s > 0).all() and (s < 1).all()


def digits_batch(n=128, images=True):
    from ember.data import load_digits
    x, y = load_digits(return_X_y=True)
    x = (x[:n] / 16).astype(np.float32)
    return ember.from_numpy(x.reshape(-1, 1, 8, 8) if images else x), ember.from_numpy(y[:n])


@pytest.mark.parametrize("make, steps", [(lambda: LeNet5(1, 10, 8, small=True), 40),
                                         (lambda: SmallVGG(1, 10, widths=(8, 16)), 15),
                                         (lambda: ResNet(1, 10, blocks=(1, 1), widths=(8, 16)), 15),
                                         (lambda: InceptionNet(1, 10), 15)],
                         ids=["lenet", "vgg", "resnet", "inception"])
def test_classifiers_learn(make, steps):
    x, y = digits_batch()
    model = make()
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.parametrize("make", [lambda: AutoEncoder(64, (32,), 8),
                                  lambda: DenoisingAutoEncoder(64, (32,), 8),
                                  lambda: SparseAutoEncoder(64, (32,), 16)],
                         ids=["ae", "dae", "sparse"])
def test_autoencoders_learn(make):
    x, _ = digits_batch(256, images=False)
    model = make()
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = F.mse_loss(model(x), x)
        if isinstance(model, SparseAutoEncoder):
            loss = loss + model.sparsity_penalty()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    model.eval()
    assert F.mse_loss(model(x), x).item() < 0.6 * first


def test_vae_learns():
    x, _ = digits_batch(256, images=False)
    vae = VAE(64, 32, 4)
    opt = ember.optim.Adam(vae.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = VAE.loss(x, *vae(x))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.8 * losses[0]


def test_dcgan_discriminator_learns_and_generator_fools_it():
    x, _ = digits_batch(64)
    real = 2 * x - 1
    gen, disc = DCGANGenerator(8, 1, 8, 2), DCGANDiscriminator(1, 8, 8)
    opt_d = ember.optim.Adam(disc.parameters(), lr=2e-3, betas=(0.5, 0.999))
    ones, zeros = ember.ones(64, 1), ember.zeros(64, 1)
    z = ember.randn(64, 8)
    d_losses = []
    for _ in range(10):                      # D alone separates real from (fixed-G) fakes
        opt_d.zero_grad()
        loss = (F.binary_cross_entropy_with_logits(disc(real), ones) +
                F.binary_cross_entropy_with_logits(disc(gen(z).detach()), zeros))
        loss.backward()
        opt_d.step()
        d_losses.append(loss.item())
    assert d_losses[-1] < 0.5 * d_losses[0]
    opt_g = ember.optim.Adam(gen.parameters(), lr=2e-3, betas=(0.5, 0.999))
    g_losses = []
    for _ in range(10):                      # G alone then raises D's score of its samples
        opt_g.zero_grad()
        loss = F.binary_cross_entropy_with_logits(disc(gen(z)), ones)
        loss.backward()
        opt_g.step()
        g_losses.append(loss.item())
    assert g_losses[-1] < 0.7 * g_losses[0]
