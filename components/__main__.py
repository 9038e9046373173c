"""The Pulumi package's plugin (PulumiPlugin.yaml beside it): the engine runs `python <this folder>
<engine address>` through the Python language host, which puts this folder first on sys.path."""

from mytimetable_o365.pulumi_package.provider import main

main()
