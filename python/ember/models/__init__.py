"""ember.models: reusable architectures of the standard curriculum, built from ember.nn.

    MLP                       mlp.py
    LeNet5, SmallVGG          cnn.py
    ResNet, BasicBlock        resnet.py      residual connections
    InceptionBlock, InceptionNet   inception.py
    SequenceClassifier, LanguageModel   recurrent.py   LSTM/GRU/RNN, bidirectional
    Seq2Seq                   seq2seq.py     encoder-decoder with attention
    TransformerClassifier     transformer.py
    AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder, VAE   autoencoder.py
    MLPGenerator, MLPDiscriminator, DCGANGenerator, DCGANDiscriminator   gan.py
    QNetwork                  qnetwork.py
"""
from ember.models.autoencoder import AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder, VAE
from ember.models.cnn import LeNet5, SmallVGG
from ember.models.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from ember.models.inception import InceptionBlock, InceptionNet
from ember.models.mlp import MLP
from ember.models.qnetwork import QNetwork
from ember.models.recurrent import LanguageModel, SequenceClassifier
from ember.models.resnet import BasicBlock, ResNet
from ember.models.seq2seq import Seq2Seq
from ember.models.transformer import TransformerClassifier, sinusoidal_positions

__all__ = ["MLP", "LeNet5", "SmallVGG", "ResNet", "BasicBlock", "InceptionBlock",
           "InceptionNet", "SequenceClassifier", "LanguageModel", "Seq2Seq",
           "TransformerClassifier", "sinusoidal_positions", "AutoEncoder",
           "DenoisingAutoEncoder", "SparseAutoEncoder", "VAE", "MLPGenerator",
           "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "QNetwork"]
