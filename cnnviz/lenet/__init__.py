"""The only torch code: LeNet-5 and your own network (model, builder), the data, the training loop, the job that
runs it for a page, and the command line (`python -m cnnviz.lenet.train`).
"""
