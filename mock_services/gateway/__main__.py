"""``python -m motcua.mock_services.gateway --port P --data-dir D …`` (options: `GatewayConfig`)."""

from motcua.mock_services.gateway.app import main

if __name__ == "__main__":
    main()
